// `peft train --method adamix --adamix-base bottleneck` end to end on stories260K: training
// with the consistency loss, resume, export to a plain bottleneck adapter, generation, and a
// LoRA-only flag refused.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"
#include "cli/stories_suite.h"

namespace peft {
namespace {

class AdamixBottleneckCli : public test::StoriesSuite {};

TEST_F(AdamixBottleneckCli, TrainsResumesExportsAndGenerates) {
  const std::string data = write_say_ok_data("data.jsonl", 12), model = model_;
  test::TempDir dir;
  const std::string out = dir / "run";
  const std::string common = "train --model " + model + " --data " + data +
                             " --method adamix --adamix-base bottleneck --adamix-experts 3 --adamix-share-up false"
                             " --adamix-bottleneck-size 4 --adamix-non-linearity relu --adamix-consistency 0.5"
                             " --batch-size 4 --micro-batch-size 2 --val-set-size 2 --warmup-steps 0"
                             " --learning-rate 1e-2 --eval-steps 2 --save-steps 2";
  auto r = test::run_peft(common + " --max-steps 4 --output " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto config = nlohmann::json::parse(test::read_all(out + "/adapter_config.json"));
  EXPECT_EQ(config["base"], "bottleneck");
  EXPECT_EQ(config["bottleneck_size"], 4);
  EXPECT_EQ(config["non_linearity"], "relu");
  EXPECT_FALSE(config.contains("r"));
  std::ifstream metrics(out + "/metrics.jsonl");
  int lines = 0;
  for (std::string line; std::getline(metrics, line); ++lines) {
    auto j = nlohmann::json::parse(line);
    ASSERT_TRUE(j.contains("consistency")) << line;
    EXPECT_TRUE(std::isfinite(j["loss"].get<double>())) << line;
  }
  EXPECT_EQ(lines, 4);
  // Resuming from step 2 reproduces the uninterrupted run's adapter.
  const std::string out2 = dir / "resumed";
  auto resumed = test::run_peft(common + " --max-steps 4 --output " + out2 + " --resume " + out + "/checkpoint-2");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err << resumed.out;
  EXPECT_EQ(test::read_all(out + "/adapter_model.safetensors"), test::read_all(out2 + "/adapter_model.safetensors"));

  auto e =
      test::run_peft("export --format bottleneck --model " + model + " --adapter " + out + " --out " + (dir / "plain"));
  ASSERT_EQ(e.exit_code, 0) << e.err;
  auto plain = nlohmann::json::parse(test::read_all(dir / "plain/adapter_config.json"));
  EXPECT_EQ(plain["peft_type"], "BOTTLENECK");
  auto wrong =
      test::run_peft("export --format peft-lora --model " + model + " --adapter " + out + " --out " + (dir / "lora"));
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("--format bottleneck"), std::string::npos) << wrong.err;
  // The mixture (averaged) and its plain export generate the same greedy text.
  const std::string gen =
      "generate --model " + model + " --prompt \"Say 3\" --max-new-tokens 8 --temperature 0 --adapter ";
  auto g1 = test::run_peft(gen + out);
  auto g2 = test::run_peft(gen + (dir / "plain"));
  ASSERT_EQ(g1.exit_code, 0) << g1.err;
  ASSERT_EQ(g2.exit_code, 0) << g2.err;
  EXPECT_EQ(g1.out, g2.out);
  EXPECT_FALSE(g1.out.empty());

  auto bad = test::run_peft(common + " --max-steps 1 --adamix-r 4 --output " + (dir / "bad"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("r does not apply to base 'bottleneck'"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace peft
