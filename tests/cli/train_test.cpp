// peft train end to end on the real stories260K: outputs, resume bit-exactness, bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"

namespace peft {
namespace {

namespace fs = std::filesystem;
using test::run_peft;

class Train : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    model_ = *dir_ / "stories";
    auto r = test::convert_stories260k(model_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    data_ = *dir_ / "data.jsonl";
    std::ofstream f(data_);
    for (int i = 0; i < 40; ++i)
      f << nlohmann::json{{"instruction", "Tell a story about number " + std::to_string(i)},
                          {"input", i % 3 == 0 ? "a cat" : ""},
                          {"output", "Once upon a time there was a cat. It was " + std::to_string(i) + "."}}
               .dump()
        << "\n";
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string common(const std::string& out) {
    return "train --model " + model_ + " --data " + data_ + " --output " + out +
           " --batch-size 8 --micro-batch-size 4 --val-set-size 8 --warmup-steps 2 --learning-rate 1e-2"
           " --lora-r 4 --lora-dropout 0.1 --target-modules q_proj,k_proj,v_proj,o_proj --seed 5"
           " --group-by-length true --eval-steps 3 --logging-steps 1";
  }
  static inline test::TempDir* dir_ = nullptr;
  static inline std::string model_, data_;
};

TEST_F(Train, WritesAPeftAdapterThatGenerateAndMergeUse) {
  const std::string out = *dir_ / "run";
  auto r = run_peft(common(out) + " --max-steps 4 --save-steps 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"adapter_config.json", "adapter_model.safetensors", "metrics.jsonl", "train_summary.json",
                        "checkpoint-2/optimizer.safetensors", "checkpoint-4/trainer_state.json"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  auto config = nlohmann::json::parse(test::read_all(out + "/adapter_config.json"));
  EXPECT_EQ(config["peft_type"], "LORA");
  EXPECT_EQ(config["r"], 4);
  std::ifstream metrics(out + "/metrics.jsonl");
  int lines = 0;
  bool saw_val = false;
  for (std::string line; std::getline(metrics, line); ++lines) {
    auto j = nlohmann::json::parse(line);
    for (const char* key : {"step", "loss", "lr", "grad_norm", "tokens_per_s"}) EXPECT_TRUE(j.contains(key)) << key;
    saw_val |= j.contains("val_loss");
  }
  EXPECT_EQ(lines, 4);
  EXPECT_TRUE(saw_val);

  auto plain = run_peft("generate --model " + model_ + " --prompt \"Once upon\" --max-new-tokens 12");
  auto adapted =
      run_peft("generate --model " + model_ + " --adapter " + out + " --prompt \"Once upon\" --max-new-tokens 12");
  ASSERT_EQ(adapted.exit_code, 0) << adapted.err;
  EXPECT_EQ(adapted.out.rfind("Once upon", 0), 0u);
  EXPECT_NE(plain.out, adapted.out) << "the adapter changed nothing";

  const std::string merged = *dir_ / "merged";
  auto m = run_peft("merge --model " + model_ + " --adapter " + out + " --out " + merged);
  ASSERT_EQ(m.exit_code, 0) << m.err;
  auto from_merged = run_peft("generate --model " + merged + " --prompt \"Once upon\" --max-new-tokens 12");
  ASSERT_EQ(from_merged.exit_code, 0) << from_merged.err;
  EXPECT_EQ(from_merged.out, adapted.out);
}

TEST_F(Train, ResumedRunEndsBitForBitLikeAnUninterruptedOne) {
  const std::string full = *dir_ / "full", part = *dir_ / "part", resumed = *dir_ / "resumed";
  ASSERT_EQ(run_peft(common(full) + " --max-steps 6 --save-steps 100").exit_code, 0);
  ASSERT_EQ(run_peft(common(part) + " --max-steps 6 --save-steps 3").exit_code, 0);
  auto r = run_peft(common(resumed) + " --max-steps 6 --save-steps 100 --resume " + part + "/checkpoint-3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::read_all(full + "/adapter_model.safetensors"),
            test::read_all(resumed + "/adapter_model.safetensors"));
  // Another configuration may not resume from it.
  auto bad =
      run_peft(common(*dir_ / "other") + " --max-steps 6 --learning-rate 5e-3 --resume " + part + "/checkpoint-3");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("learning_rate"), std::string::npos) << "stderr: " << bad.err;
}

TEST_F(Train, BadInputFailsCleanlyWithoutAnOutputFolder) {
  struct Case {
    std::string args, needle;
  };
  const std::string empty = *dir_ / "empty.json";
  std::ofstream(empty) << "[]";
  const std::string broken = *dir_ / "broken.jsonl";
  std::ofstream(broken) << "{\"instruction\": \"a\", \"output\": \"b\"}\n{\"instruction\": 3}\n";
  const std::string out = *dir_ / "never";
  const std::string base = "train --model " + model_ + " --output " + out + " --val-set-size 0 --max-steps 1";
  const Case cases[] = {
      {base + " --data " + empty, "no records"},
      {base + " --data " + broken, "line 2"},
      {base + " --data " + data_ + " --target-modules qq_proj", "valid: "},
      {base + " --data " + data_ + " --lora-r 0", "r must be positive"},
      {base + " --data " + data_ + " --method nope", "supported: lora"},
      {base + " --data " + data_ + " --batch-size 6 --micro-batch-size 4", "multiple"},
      {"train --model " + model_ + " --output " + out + " --data " + data_ + " --val-set-size 40",
       "leaves no training"},
  };
  for (const Case& c : cases) {
    auto r = run_peft(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.args;
  }
}

}  // namespace
}  // namespace peft
