// Data-parallel training over MPI (mpirun -np 2 on loopback) equals one process with the same
// global batch: the loss curve, validation loss, final adapter and AdamW state within 1e-6
// relative (the order of the gradient sums is all that differs), for LoRA, AdaMix (its
// consistency step), prefix tuning and AdaLink (modality ids from data segments); peft eval's
// sharded records give one process's predictions; a checkpoint of 2 ranks resumes in 1 and the reverse;
// a rank that cannot read its data stops the whole job, naming itself and the file; a rank
// killed mid-run stops the job within seconds and the last checkpoint resumes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/stories_suite.h"
#include "dist/comm.h"
#include "io/safetensors.h"

namespace peft::test {
namespace {

class MpiTrain : public StoriesSuite {
 protected:
  void SetUp() override {
    const std::string mpirun = PEFT_MPIRUN;
    if (!dist::available() || mpirun.empty() || mpirun.find("NOTFOUND") != std::string::npos)
      GTEST_SKIP() << "built without MPI (scripts/setup installs libopenmpi-dev)";
  }
  static std::string data() {
    static const std::string path = write_say_ok_data("mpi.jsonl", 48);
    return path;
  }
  // Records whose instruction and output are two AdaLink modalities (data segments).
  static std::string segment_data() {
    static const std::string path = [] {
      const std::string p = *dir_ / "segments.jsonl";
      std::ofstream f(p);
      for (int i = 0; i < 48; ++i)
        f << nlohmann::json{{"instruction", "Say " + std::to_string(i)},
                            {"output", "ok " + std::to_string(i)},
                            {"segments", {{{"modality", "instruction"}}, {{"modality", "output"}}}}}
                 .dump()
          << "\n";
      return p;
    }();
    return path;
  }
  static std::string train_args(const std::string& method_flags, const std::string& out,
                                const std::string& data_file = "") {
    return "train --model " + model_ + " --data " + (data_file.empty() ? data() : data_file) + " --output " + out +
           " --batch-size 8 --micro-batch-size 2 --val-set-size 8 --eval-steps 2 --save-steps 2 --logging-steps 1"
           " --learning-rate 1e-3 --warmup-steps 1 --seed 7 " +
           method_flags;
  }
  // `peft ARGS` as N processes of one MPI job on this machine (loopback TCP, no binding).
  static CliResult mpirun(int n, const std::string& args) {
    const std::string cmd = std::string(PEFT_MPIRUN) + " --allow-run-as-root --oversubscribe --bind-to none" +
                            " --mca btl self,tcp --mca btl_tcp_if_include lo -x OMP_NUM_THREADS=1 -np " +
                            std::to_string(n) + " " + peft_binary() + " " + args;
    const std::string out = *dir_ / "mpirun.out", err = *dir_ / "mpirun.err";
    const int status = std::system((cmd + " >" + out + " 2>" + err).c_str());
    CliResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_all(out);
    r.err = read_all(err);
    return r;
  }
};

std::vector<nlohmann::json> records(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

double rel(double a, double b) { return std::abs(a - b) / std::max({std::abs(a), std::abs(b), 1e-30}); }

// Relative difference ‖a − b‖ / ‖a‖ of everything two safetensors files hold (the tensors
// laid end to end; L2 norm, since single elements of a sum whose terms cancel carry any
// relative error a different summation order gives them).
double max_rel_diff(const std::string& a, const std::string& b) {
  auto fa = SafetensorsFile::open(a), fb = SafetensorsFile::open(b);
  EXPECT_TRUE(fa.is_ok() && fb.is_ok()) << a << " / " << b;
  if (!fa.is_ok() || !fb.is_ok()) return 1e30;
  EXPECT_EQ(fa->names(), fb->names());
  double diff = 0, norm = 0;
  for (const auto& [name, ta] : fa->tensors()) {
    const Tensor* tb = fb->find(name);
    if (!tb) continue;
    EXPECT_EQ(ta.numel(), tb->numel()) << name;
    for (int64_t i = 0; i < std::min(ta.numel(), tb->numel()); ++i) {
      const double x = ta.f32()[i], y = tb->f32()[i];
      diff += (x - y) * (x - y);
      norm += x * x;
    }
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

struct MethodRun {
  const char* name;
  const char* flags;
  bool segments = false;  // train on segment_data() (AdaLink's modality ids)
};

TEST_F(MpiTrain, TwoRanksEqualOneProcessForEveryMethodRow) {
  for (const MethodRun& run :
       {MethodRun{"lora", "--method lora --lora-r 4 --lora-dropout 0.1"},
        MethodRun{"adamix", "--method adamix --adamix-r 4 --adamix-experts 2 --adamix-consistency 1"},
        MethodRun{"prefix", "--method prefix --num-virtual-tokens 4"},
        MethodRun{"adalink", "--method adalink --adalink-modalities text,instruction,output", true}}) {
    SCOPED_TRACE(run.name);
    const std::string one = *dir_ / (std::string("one-") + run.name), two = *dir_ / (std::string("two-") + run.name);
    setenv("OMP_NUM_THREADS", "1", 1);
    const std::string data_file = run.segments ? segment_data() : "";
    auto r1 = run_peft(train_args(run.flags, one, data_file) + " --max-steps 4");
    unsetenv("OMP_NUM_THREADS");
    ASSERT_EQ(r1.exit_code, 0) << r1.err;
    auto r2 = mpirun(2, train_args(run.flags, two, data_file) + " --max-steps 4");
    ASSERT_EQ(r2.exit_code, 0) << r2.err;
    const auto m1 = records(one + "/metrics.jsonl"), m2 = records(two + "/metrics.jsonl");
    ASSERT_EQ(m1.size(), 4u);
    ASSERT_EQ(m2.size(), m1.size()) << "rank 0 alone writes metrics.jsonl";
    double worst_loss = 0;
    for (size_t i = 0; i < m1.size(); ++i) {
      worst_loss = std::max(worst_loss, rel(m1[i]["loss"], m2[i]["loss"]));
      worst_loss = std::max(worst_loss, rel(m1[i]["grad_norm"], m2[i]["grad_norm"]));
      EXPECT_EQ(m1[i]["tokens"], m2[i]["tokens"]);
      if (m1[i].contains("val_loss")) worst_loss = std::max(worst_loss, rel(m1[i]["val_loss"], m2[i]["val_loss"]));
      // AdaMix's consistency KL between two routed passes is near 0: compared to the loss.
      if (m1[i].contains("consistency"))
        worst_loss = std::max(
            worst_loss, std::abs(double(m1[i]["consistency"]) - double(m2[i]["consistency"])) / double(m1[i]["loss"]));
    }
    const double worst_adapter = max_rel_diff(one + "/adapter_model.safetensors", two + "/adapter_model.safetensors");
    const double worst_optimizer =
        max_rel_diff(one + "/checkpoint-4/optimizer.safetensors", two + "/checkpoint-4/optimizer.safetensors");
    std::printf("[ %s ] 2 ranks vs 1 process: loss/grad-norm/val %.2e, adapter %.2e, AdamW moments %.2e (relative)\n",
                run.name, worst_loss, worst_adapter, worst_optimizer);
    EXPECT_LE(worst_loss, 1e-6);
    EXPECT_LE(worst_adapter, 1e-6);
    EXPECT_LE(worst_optimizer, 1e-6);
    EXPECT_NE(r2.out.find("trained 4 steps"), std::string::npos) << r2.out;
    EXPECT_EQ(r2.out.find("trained 4 steps"), r2.out.rfind("trained 4 steps")) << "one summary line, from rank 0";
  }
}

TEST_F(MpiTrain, CheckpointsResumeWithAnotherNumberOfRanks) {
  const std::string flags = "--method lora --lora-r 4";
  const std::string full = *dir_ / "full", two = *dir_ / "two", one = *dir_ / "one";
  setenv("OMP_NUM_THREADS", "1", 1);
  ASSERT_EQ(run_peft(train_args(flags, full) + " --max-steps 4").exit_code, 0);
  // 2 ranks write checkpoint-2, 1 process goes on from it; and 1 process's checkpoint-2 in 2 ranks.
  ASSERT_EQ(mpirun(2, train_args(flags, two) + " --max-steps 4").exit_code, 0);
  auto r = run_peft(train_args(flags, *dir_ / "two-then-one") + " --max-steps 4 --resume " + two + "/checkpoint-2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(run_peft(train_args(flags, one) + " --max-steps 4").exit_code, 0);
  unsetenv("OMP_NUM_THREADS");
  auto r2 = mpirun(2, train_args(flags, *dir_ / "one-then-two") + " --max-steps 4 --resume " + one + "/checkpoint-2");
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  for (const char* resumed : {"two-then-one", "one-then-two"})
    EXPECT_LE(max_rel_diff(full + "/adapter_model.safetensors", *dir_ / resumed + "/adapter_model.safetensors"), 1e-6)
        << resumed;
}

TEST_F(MpiTrain, RanksThatCannotReadTheDataStopTheJobNamingThemselvesAndTheFile) {
  auto r = mpirun(2, "train --model " + model_ + " --data " + *dir_ / "missing.jsonl" + " --output " + *dir_ / "never" +
                         " --max-steps 2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("error: rank 0: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("error: rank 1: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing.jsonl"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "never/adapter_model.safetensors"));
}

// peft eval under MPI: each rank generates (or scores) its share of the records; rank 0 writes
// the same results.json and predictions.jsonl as one process.
TEST_F(MpiTrain, EvalShardsRecordsAndWritesWhatOneProcessWrites) {
  const std::string boolq = shared_path("data/datasets/llm_adapters/dataset/boolq/test.json");
  for (const char* scoring : {"generate", "likelihood"}) {
    SCOPED_TRACE(scoring);
    const std::string args = "eval --model " + model_ + " --task boolq --data " + boolq + " --limit 21 --scoring " +
                             scoring + (std::string(scoring) == "generate" ? " --batch-size 4" : "") + " --out ";
    const std::string one = *dir_ / (std::string("eval-one-") + scoring),
                      two = *dir_ / (std::string("eval-two-") + scoring);
    auto r1 = run_peft(args + one);
    ASSERT_EQ(r1.exit_code, 0) << r1.err;
    auto r2 = mpirun(2, args + two);
    ASSERT_EQ(r2.exit_code, 0) << r2.err;
    EXPECT_EQ(read_all(one + "/predictions.jsonl"), read_all(two + "/predictions.jsonl"));
    EXPECT_EQ(read_all(one + "/results.json"), read_all(two + "/results.json"));
    EXPECT_EQ(r1.out, r2.out) << "one summary line, from rank 0";
  }
}

TEST_F(MpiTrain, OneRankFailingStopsEveryRank) {
  // Rank 1 alone cannot read its data; rank 0 loads fine and must not wait for it forever.
  const std::string script = *dir_ / "one_fails.sh";
  {
    std::ofstream f(script);
    f << "#!/bin/sh\nif [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then data=" << *dir_ / "gone.jsonl"
      << "; else data=" << data() << "; fi\nexec " << peft_binary() << " train --model " << model_
      << " --data \"$data\" --output " << *dir_ / "half"
      << " --max-steps 2 --batch-size 4 --micro-batch-size 2 --val-set-size 0\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  const std::string out = *dir_ / "one_fails.out", err = *dir_ / "one_fails.err";
  const std::string cmd = std::string(PEFT_MPIRUN) +
                          " --allow-run-as-root --oversubscribe --bind-to none --mca btl self,tcp "
                          "--mca btl_tcp_if_include lo -np 2 " +
                          script + " >" + out + " 2>" + err;
  const int status = std::system(cmd.c_str());
  const std::string e = read_all(err);
  EXPECT_NE(status, 0);
  EXPECT_NE(e.find("error: rank 1: "), std::string::npos) << e;
  EXPECT_NE(e.find("gone.jsonl"), std::string::npos) << e;
  EXPECT_NE(e.find("error: rank 0: rank 1 failed while loading the model and the data"), std::string::npos) << e;
}

TEST_F(MpiTrain, AKilledRankStopsTheJobAndTheLastCheckpointResumes) {
  const std::string out = *dir_ / "killed";
  const std::string flags = "--method lora --lora-r 4";
  const std::string cmd = std::string(PEFT_MPIRUN) +
                          " --allow-run-as-root --oversubscribe --bind-to none --mca btl self,tcp "
                          "--mca btl_tcp_if_include lo -x OMP_NUM_THREADS=1 -np 2 " +
                          peft_binary() + " " + train_args(flags, out) + " --max-steps 200 >" + *dir_ / "killed.out" +
                          " 2>" + *dir_ / "killed.err" + " & echo $! > " + *dir_ / "killed.pid";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  // Once checkpoint-2 exists, kill -9 rank 1 (found by its Open MPI rank in the environment).
  for (int i = 0; i < 600 && !std::filesystem::exists(out + "/checkpoint-2/trainer_state.json"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(std::filesystem::exists(out + "/checkpoint-2/trainer_state.json"));
  const std::string kill = "n=0; for p in $(pgrep -f '" + out +
                           "'); do if tr '\\0' '\\n' < /proc/$p/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1; "
                           "then kill -9 $p && n=$((n+1)); fi; done; [ $n = 1 ]";
  ASSERT_EQ(std::system(kill.c_str()), 0);
  const auto t0 = std::chrono::steady_clock::now();
  // Gone: no live process of the job (mpirun and its ranks name the output folder; an exited
  // one left as a zombie has no command line).
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30)) {
    // (the last character as a class: the shell running pgrep, whose command line holds the
    // pattern, does not match it)
    const std::string pattern = out.substr(0, out.size() - 1) + "[" + out.back() + "]";
    gone = std::system(("pgrep -f '" + pattern + "' >/dev/null").c_str()) != 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(gone) << "the job still runs 30 s after a rank died";
  std::printf("[ killed rank ] the job ended %.1f s after rank 1 was killed\n", waited);
  EXPECT_NE(read_all(*dir_ / "killed.err").find("rank"), std::string::npos) << read_all(*dir_ / "killed.err");
  // The last complete checkpoint resumes (a partial one is a temporary folder, never checkpoint-N).
  std::string last;
  for (int n = 2; std::filesystem::exists(out + "/checkpoint-" + std::to_string(n) + "/trainer_state.json"); n += 2)
    last = out + "/checkpoint-" + std::to_string(n);
  auto r = run_peft(train_args(flags, *dir_ / "after-kill") + " --max-steps 200 --resume " + last);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("trained 200 steps"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace peft::test
