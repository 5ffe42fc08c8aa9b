// Issue 13's triggers, each a regression test: outputs never destroy what a command did not
// write, sizes are checked before allocation, parsers are bounded, numbers are checked,
// concurrent writers and killed runs are handled, exit codes are 0 / 1 / 2.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "cli/stories_suite.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "io/output_target.h"
#include "io/safetensors.h"

namespace peft::test {
namespace {

namespace fs = std::filesystem;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

class Reliability : public StoriesSuite {
 protected:
  // A writable copy of the suite's converted stories260K.
  static std::string model_copy(const std::string& name) {
    const std::string dst = *dir_ / name;
    fs::remove_all(dst);
    fs::copy(model_, dst, fs::copy_options::recursive);
    return dst;
  }
  static void edit_config(const std::string& dir, const std::function<void(nlohmann::json&)>& edit) {
    auto j = nlohmann::json::parse(read_all(dir + "/config.json"));
    edit(j);
    std::ofstream(dir + "/config.json") << j.dump(2);
  }
  static std::string data8() { return write_say_ok_data("say8.jsonl", 8); }
  static std::string train_flags() {
    return " --max-steps 2 --batch-size 4 --micro-batch-size 4 --val-set-size 0 --seed 1";
  }
  static void expect_error(const CliResult& r, const std::string& needle, int code = 1) {
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr: " << r.err;
  }
};

// --- Outputs never destroy what they did not write ---------------------------------------

TEST_F(Reliability, NonEmptyOutputFoldersAreRefusedAndOverwriteKeepsForeignFiles) {
  const std::string out = *dir_ / "occupied";
  fs::create_directories(out);
  std::ofstream(out + "/precious.txt") << "mine";
  const std::string convert = "convert --from llama2c --checkpoint " +
                              shared_path("data/models/stories260K/stories260K.bin") + " --tokenizer " +
                              shared_path("data/models/stories260K/tok512.model") + " --out " + out;
  const std::string cases[] = {
      convert,
      "merge --model " + model_ + " --adapter " + model_ + " --out " + out,
      "eval --model " + model_ + " --task boolq --limit 2 --out " + out,
      "export --format gguf --model " + model_ + " --out " + out + "/precious.txt",
  };
  for (const std::string& c : cases) {
    auto r = run_peft(c);
    EXPECT_EQ(r.exit_code, 1) << c << "\n" << r.err;
    EXPECT_TRUE(r.err.find("is not empty") != std::string::npos || r.err.find("already exists") != std::string::npos)
        << c << "\n"
        << r.err;
    EXPECT_EQ(read_all(out + "/precious.txt"), "mine") << c;
  }
  EXPECT_EQ(folder_entries(out), std::vector<std::string>{"precious.txt"});
  // --overwrite writes the command's files and keeps the others.
  auto r = run_peft(convert + " --overwrite");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_all(out + "/precious.txt"), "mine");
  EXPECT_TRUE(fs::exists(out + "/config.json"));
  EXPECT_NE(r.err.find("(1 other entry kept)"), std::string::npos) << r.err;
}

TEST_F(Reliability, OutputsAreOnlyPlainFilesAndFolders) {
  const std::string link = *dir_ / "link";
  fs::remove_all(link);
  fs::create_directory_symlink(dir_->path(), link);
  const std::string cases[][2] = {
      {"logits --model " + model_ + " --input x --output /dev/full", "system location"},
      {"export --format gguf --model " + model_ + " --out /dev/full --overwrite", "system location"},
      {"train --model " + model_ + " --data " + data8() + " --output /" + train_flags(), "system location"},
      {"train --model " + model_ + " --data " + data8() + " --output /proc/self" + train_flags(), "system location"},
      {"eval --model " + model_ + " --task boolq --limit 2 --out " + link, "is a symbolic link"},
  };
  for (const auto& c : cases) expect_error(run_peft(c[0]), c[1]);
  EXPECT_TRUE(fs::exists("/dev/full") && !fs::is_regular_file("/dev/full"));
}

TEST_F(Reliability, ASecondWriterOfTheSameOutputGetsAClearError) {
  const std::string out = *dir_ / "locked";
  fs::remove_all(out);
  auto lock = OutputLock::acquire(out);  // as a running `peft train --output locked` holds it
  ASSERT_TRUE(lock.is_ok()) << lock.status().message();
  expect_error(run_peft("train --model " + model_ + " --data " + data8() + " --output " + out + train_flags()),
               "another peft process (pid " + std::to_string(::getpid()) + ") is writing it");
  lock.value().release();
  EXPECT_EQ(run_peft("train --model " + model_ + " --data " + data8() + " --output " + out + train_flags()).exit_code,
            0);
}

TEST_F(Reliability, KilledRunsLeaveNothingBehindAndResumeDoesNotRepeatMetrics) {
  const std::string out = *dir_ / "resumed";
  fs::remove_all(out);
  const std::string base =
      "train --model " + model_ + " --data " + data8() + " --output " + out +
      " --batch-size 4 --micro-batch-size 4 --val-set-size 0 --seed 1 --save-steps 2 --logging-steps 1";
  ASSERT_EQ(run_peft(base + " --max-steps 4").exit_code, 0);
  // What a kill -9 mid-checkpoint leaves: a temporary folder of a process that is gone.
  const std::string stale = out + "/checkpoint-4.tmp-999999999";
  fs::create_directories(stale);
  std::ofstream(stale + "/adapter_model.safetensors") << "torn";
  // The run resumed from its step-2 checkpoint (as after a kill at step 3 or 4) repeats steps 3, 4.
  auto r = run_peft(base + " --max-steps 4 --resume " + out + "/checkpoint-2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(stale));
  std::vector<int64_t> steps;
  std::ifstream metrics(out + "/metrics.jsonl");
  for (std::string line; std::getline(metrics, line);) steps.push_back(nlohmann::json::parse(line)["step"]);
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3, 4}));
  // A non-empty folder that is not this run's, without --resume: refused, hinting at --resume.
  expect_error(run_peft(base + " --max-steps 2"), "--resume " + out + "/checkpoint-N");
  // --overwrite removes only what training wrote.
  std::ofstream(out + "/notes.txt") << "mine";
  ASSERT_EQ(run_peft(base + " --max-steps 2 --overwrite").exit_code, 0);
  EXPECT_TRUE(fs::exists(out + "/notes.txt"));
  EXPECT_FALSE(fs::exists(out + "/checkpoint-4"));
  EXPECT_TRUE(fs::exists(out + "/checkpoint-2"));
}

// --- Sizes are checked before they are allocated ------------------------------------------

// `src` (a GGUF file) rewritten with one metadata value replaced.
std::string rewrite_gguf(const std::string& src, const std::string& dst, const std::string& key, GgufValue value) {
  auto f = GgufFile::open(src);
  EXPECT_TRUE(f.is_ok()) << f.status().message();
  GgufWriter w;
  for (const auto& [k, v] : f->metadata()) w.set(k, k == key ? value : v);
  for (const GgufTensorInfo& t : f->tensors())
    w.add_raw_tensor(t.name, t.type, t.ne, std::string(reinterpret_cast<const char*>(t.data), size_t(t.nbytes)));
  EXPECT_TRUE(w.write(dst).is_ok());
  return dst;
}

TEST_F(Reliability, CountsInConfigsMustMatchTheWeights) {
  const std::string huge = model_copy("layers_1e9");
  edit_config(huge, [](nlohmann::json& j) { j["num_hidden_layers"] = 1000000000; });
  expect_error(run_peft("inspect " + huge), "tensor 'model.layers.999999999.input_layernorm.weight' is missing");
  const std::string fewer = model_copy("layers_4");
  edit_config(fewer, [](nlohmann::json& j) { j["num_hidden_layers"] = 4; });
  expect_error(run_peft("inspect " + fewer),
               "also has 'model.layers.4.input_layernorm.weight' (a layer would be dropped)");

  const std::string gguf = *dir_ / "stories.gguf";
  ASSERT_EQ(run_peft("export --format gguf --model " + model_ + " --out " + gguf + " --overwrite").exit_code, 0);
  const std::string big = rewrite_gguf(gguf, *dir_ / "blocks_2e31.gguf", "llama.block_count",
                                       GgufValue::of_uint(GgufType::U32, uint64_t(1) << 31));
  expect_error(run_peft("generate --model " + big + " --prompt Hi"), "is missing");
  const std::string four =
      rewrite_gguf(gguf, *dir_ / "blocks_4.gguf", "llama.block_count", GgufValue::of_uint(GgufType::U32, 4));
  auto r = run_peft("generate --model " + four + " --prompt Hi");
  expect_error(r, "is not used by the llama model");
  EXPECT_NE(r.err.find("tensor 'blk.4."), std::string::npos) << r.err;
}

TEST_F(Reliability, AbsurdSizesFromFlagsAndAdapterConfigsAreRefusedBeforeAllocating) {
  const std::string out = *dir_ / "never";
  const std::string train = "train --model " + model_ + " --data " + data8() + " --output " + out;
  struct Case {
    std::string args, error;
  };
  const std::string adapter = *dir_ / "r1e9";
  fs::create_directories(adapter);
  const std::string ids = *dir_ / "ids.safetensors";
  int64_t id_values[3] = {1, 2, 3};
  ASSERT_TRUE(write_safetensors(ids, {{"input_ids", Tensor(id_values, DType::I64, {1, 3})}}).is_ok());
  std::ofstream(adapter + "/adapter_config.json")
      << R"({"peft_type": "LORA", "r": 1000000000, "target_modules": ["q_proj"]})";
  const Case cases[] = {
      {train + train_flags() + " --lora-r 1000000000", "more than 16 times the model's"},
      {train + train_flags() + " --method bottleneck --bottleneck-size 100000000", "more than 16 times the model's"},
      {train + train_flags() + " --method adamix --adamix-experts 100000", "num_experts must be at most 64"},
      {"logits --model " + model_ + " --adapter " + adapter + " --input " + ids + " --output " + out + ".st",
       "more than 16 times the model's"},
      {"eval --model " + model_ + " --task boolq --limit 1 --num-beams 100000 --out " + out, "exceeds the vocabulary"},
  };
  for (const Case& c : cases) {
    expect_error(run_peft(c.args), c.error);
    EXPECT_FALSE(fs::exists(out)) << c.args;
  }
  // A global batch (and micro-batch) larger than the data clamps to it, and says so.
  auto r = run_peft(train + " --max-steps 1 --val-set-size 0 --batch-size 100000 --micro-batch-size 100000");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("exceeds the 8 training examples; using 8"), std::string::npos) << r.err;
  r = run_peft(train + " --max-steps 1 --val-set-size 0 --batch-size 1000000000 --micro-batch-size 4 --overwrite");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // More threads than cores: capped, with a warning.
  r = run_peft("--threads 100000 generate --model " + model_ + " --prompt Hi --max-new-tokens 2");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: --threads 100000 exceeds"), std::string::npos) << r.err;
}

// --- Parsers are bounded -------------------------------------------------------------------

TEST_F(Reliability, DeeplyNestedJsonIsRefusedNotAStackOverflow) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  const std::string m = model_copy("deep_config");
  auto j = nlohmann::json::parse(read_all(m + "/config.json"));
  std::string text = j.dump();
  text.insert(text.size() - 1, ", \"x\": " + deep);
  std::ofstream(m + "/config.json") << text;
  expect_error(run_peft("inspect " + m), "JSON nested deeper than 128 levels");
  const std::string tok = *dir_ / "deep_tokenizer";
  fs::create_directories(tok);
  std::ofstream(tok + "/tokenizer.json") << "{\"model\": " << deep << "}";
  expect_error(run_peft("tokenize --tokenizer " + tok, "hi\n"), "JSON nested deeper than 128 levels");
  const std::string data = *dir_ / "deep.jsonl";
  std::ofstream(data) << "{\"instruction\": " << deep << "}\n";
  expect_error(
      run_peft("train --model " + model_ + " --data " + data + " --output " + (*dir_ / "never2") + train_flags()),
      "JSON nested deeper than 128 levels");
}

TEST_F(Reliability, HugeRecordsTokenizeInBoundedMemory) {
  // One 10 MB record with --cutoff-len 256: tokenized from its first ~20 KB (was 2.8 GB RSS).
  const std::string data = *dir_ / "big.jsonl";
  {
    std::ofstream f(data);
    f << nlohmann::json{{"instruction", std::string(10'000'000, 'x')}, {"output", "yes"}}.dump() << "\n";
    for (int i = 0; i < 7; ++i) f << nlohmann::json{{"instruction", "q"}, {"output", "a"}}.dump() << "\n";
  }
  auto r = run_peft("train --model " + model_ + " --data " + data + " --output " + (*dir_ / "big_run") +
                    " --cutoff-len 256" + train_flags());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  struct rusage usage;
  ASSERT_EQ(getrusage(RUSAGE_CHILDREN, &usage), 0);
  // ~50 MB measured (the 10 MB record, the model, the tokenizer); AddressSanitizer's shadow
  // memory and quarantine add ~150 MB to a child built with it.
  EXPECT_LT(usage.ru_maxrss, (kSanitized ? 600 : 200) * 1024) << "KiB: a few times the record, not gigabytes";
  // peft tokenize bounds its texts (an unbroken 4 MB word needed ~1 GB).
  expect_error(run_peft("tokenize --model " + model_, std::string(4'000'000, 'a') + "\n"), "takes texts up to");
}

// --- Numbers are checked -------------------------------------------------------------------

TEST_F(Reliability, NonFiniteFlagsAreUsageErrors) {
  const std::string out = *dir_ / "never3";
  const std::string train = "train --model " + model_ + " --data " + data8() + " --output " + out + train_flags();
  expect_error(run_peft(train + " --learning-rate nan"), "--learning-rate must be a finite number", 2);
  expect_error(run_peft(train + " --weight-decay inf"), "--weight-decay must be a finite number", 2);
  expect_error(run_peft(train + " --lora-alpha inf"), "--lora-alpha must be a finite number");
  expect_error(run_peft("generate --model " + model_ + " --prompt Hi --temperature nan"), "must be a finite number", 2);
  EXPECT_FALSE(fs::exists(out));
}

// Rewrites an F32 safetensors file with element `index` of tensor `name` (the first tensor
// when empty) set to `value`.
void poison(const std::string& path, const std::string& name, int64_t index, float value) {
  auto st = SafetensorsFile::open(path);
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  std::vector<NamedTensor> tensors;
  std::vector<std::vector<float>> copies;
  for (const std::string& n : st->names()) {
    const Tensor* t = st->find(n);
    copies.emplace_back(t->f32(), t->f32() + t->numel());
    if (n == name || (name.empty() && tensors.empty())) copies.back()[size_t(index)] = value;
    tensors.push_back({n, Tensor(copies.back().data(), DType::F32, t->dims())});
  }
  ASSERT_TRUE(write_safetensors(path, tensors).is_ok());
}

TEST_F(Reliability, NonFiniteWeightsAndAbsurdConfigsAreRefused) {
  // An adapter with a NaN weight: refused at load, so neither merge nor logits use it.
  const std::string adapter = *dir_ / "nan_adapter";
  ASSERT_EQ(
      run_peft("train --model " + model_ + " --data " + data8() + " --output " + adapter + train_flags()).exit_code, 0);
  poison(adapter + "/adapter_model.safetensors", "", 1, std::numeric_limits<float>::quiet_NaN());
  expect_error(run_peft("merge --model " + model_ + " --adapter " + adapter + " --out " + (*dir_ / "merged")),
               "holds a non-finite value (NaN or inf) at element 1");
  EXPECT_FALSE(fs::exists(*dir_ / "merged"));

  const std::string theta = model_copy("theta0");
  edit_config(theta, [](nlohmann::json& j) { j["rope_theta"] = 0; });
  expect_error(run_peft("inspect " + theta), "rope_theta) must be a positive number");
  const std::string eps = model_copy("eps_huge");
  edit_config(eps, [](nlohmann::json& j) { j["rms_norm_eps"] = 1e30; });
  expect_error(run_peft("inspect " + eps), "norm epsilon must be in (0, 0.1)");

  // A base weight that is NaN (a damaged file, a dtype that lies).
  const std::string nan_base = model_copy("nan_base");
  poison(nan_base + "/model.safetensors", "model.norm.weight", 3, std::numeric_limits<float>::infinity());
  expect_error(run_peft("generate --model " + nan_base + " --prompt Hi"),
               "tensor 'model.norm.weight' holds a non-finite value (NaN or inf) at element 3");
}

TEST_F(Reliability, DamagedFilesAreRefused) {
  // safetensors whose header length is one byte short: every offset would shift by one.
  const std::string shifted = model_copy("shifted");
  std::string bytes = read_all(shifted + "/model.safetensors");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(bytes[size_t(i)]);
  // One more header byte than the length says (a pad the length forgot): the data section
  // starts a byte early, every tensor would read one byte off.
  std::string damaged = bytes.substr(0, 8 + n) + " " + bytes.substr(8 + n);
  std::ofstream(shifted + "/model.safetensors", std::ios::binary) << damaged;
  expect_error(run_peft("inspect " + shifted), "model.safetensors");

  // GGUF with two tensors sharing bytes (an offset that lies).
  const std::string gguf = *dir_ / "stories_b.gguf";
  ASSERT_EQ(run_peft("export --format gguf --model " + model_ + " --out " + gguf + " --overwrite").exit_code, 0);
  auto f = GgufFile::open(gguf);
  ASSERT_TRUE(f.is_ok());
  std::string raw = read_all(gguf);
  // Point the second tensor's offset at the first one's data: find its u64 offset in the header.
  const GgufTensorInfo& second = f->tensors()[1];
  const std::string name_bytes = second.name;
  const size_t at = raw.find(name_bytes);
  ASSERT_NE(at, std::string::npos);
  const size_t offset_pos = at + name_bytes.size() + 4 + 8 * second.ne.size() + 4;
  for (int i = 0; i < 8; ++i) raw[offset_pos + size_t(i)] = char((f->tensors()[0].offset >> (8 * i)) & 0xff);
  std::ofstream(*dir_ / "overlap.gguf", std::ios::binary) << raw;
  expect_error(run_peft("inspect " + (*dir_ / "overlap.gguf")), "overlap in the data section");
}

TEST_F(Reliability, ADivergingRunStopsAndKeepsItsLastCheckpoint) {
  const std::string out = *dir_ / "diverged";
  auto r = run_peft("train --model " + model_ + " --data " + data8() + " --output " + out +
                    " --max-steps 6 --batch-size 4 --micro-batch-size 4 --val-set-size 0 --save-steps 1"
                    " --learning-rate 1e30 --max-grad-norm 0 --warmup-steps 0 --lora-dropout 0");
  expect_error(r, "training stopped before the update");
  EXPECT_NE(r.err.find("the last good checkpoint is " + out + "/checkpoint-"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out + "/adapter_model.safetensors"));  // no NaN adapter written
}

// --- Exit codes: 0 success, 1 bad input, 2 usage -------------------------------------------

TEST_F(Reliability, ExitCodesAreZeroOneTwo) {
  EXPECT_EQ(run_peft("--help").exit_code, 0);
  EXPECT_EQ(run_peft("generate --help").exit_code, 0);
  EXPECT_EQ(run_peft("generate --model " + model_ + " --prompt Hi --no-such-flag").exit_code, 2);
  EXPECT_EQ(run_peft("generate --prompt Hi").exit_code, 2);  // --model missing
  EXPECT_EQ(run_peft("generate --model " + model_ + " --prompt Hi --max-new-tokens abc").exit_code, 2);
  EXPECT_EQ(run_peft("no-such-command").exit_code, 2);
  EXPECT_EQ(run_peft("--threads -3 generate --model " + model_ + " --prompt Hi").exit_code, 2);
  EXPECT_EQ(run_peft("generate --model " + (*dir_ / "missing") + " --prompt Hi").exit_code, 1);
}

}  // namespace
}  // namespace peft::test
