// peft bench train/generate on the tiny stories260k shape: JSON fields, text output, bad flags.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"

namespace peft {
namespace {

using test::run_peft;

TEST(BenchCli, TrainJsonHasTheFields) {
  auto r = run_peft("bench train --preset stories260k --steps 2 --warmup 1 --threads 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  for (const char* key : {"tokens_per_s", "step_s", "forward_s", "backward_s", "optimizer_s", "other_s", "gflops",
                          "peak_gflops", "pct_of_peak", "peak_rss_mb", "trainable_params"}) {
    ASSERT_TRUE(j.contains(key) && j[key].is_number()) << key << " in " << r.out;
  }
  EXPECT_GT(j["tokens_per_s"].get<double>(), 0);
  EXPECT_GT(j["gflops"].get<double>(), 0);
  EXPECT_GT(j["peak_rss_mb"].get<double>(), 1);
  EXPECT_EQ(j["batch"], 16);
  EXPECT_EQ(j["seq"], 207);
  EXPECT_EQ(j["arch"], "llama");
  // LoRA r 8 on q (64 → 64) and v (64 → 32) in 5 layers.
  EXPECT_EQ(j["trainable_params"], 5 * ((8 * 64 + 64 * 8) + (8 * 64 + 32 * 8)));
  const double parts = j["forward_s"].get<double>() + j["backward_s"].get<double>() + j["allreduce_s"].get<double>() +
                       j["optimizer_s"].get<double>() + j["other_s"].get<double>();
  EXPECT_NEAR(parts, j["step_s"].get<double>(), 1e-6);
}

TEST(BenchCli, TrainTextAndOtherMethod) {
  auto r = run_peft(
      "bench train --preset stories260k --batch 2 --seq 16 --steps 1 --warmup 0 --method ia3 "
      "--base-dtype bf16 --no-peak --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tokens/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("peak RSS"), std::string::npos) << r.out;
}

TEST(BenchCli, GenerateJson) {
  auto r = run_peft("bench generate --preset stories260k --prompt 8 --tokens 4 --batch 2 --no-peak --threads 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  for (const char* key : {"prompt_tokens_per_s", "decode_tokens_per_s", "batched_decode_tokens_per_s", "peak_rss_mb"})
    EXPECT_GT(j[key].get<double>(), 0) << key;
}

TEST(BenchCli, BadPresetArchMethodAreClearErrors) {
  auto r = run_peft("bench train --preset gpt5 --steps 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--preset 'gpt5' is unknown"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stories260k"), std::string::npos) << r.err;
  r = run_peft("bench train --preset stories260k --arch gpt2 --steps 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--arch 'gpt2' does not match --preset stories260k"), std::string::npos) << r.err;
  r = run_peft("bench train --preset stories260k --method nope --steps 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--method 'nope' is unknown"), std::string::npos) << r.err;
  r = run_peft("bench train --preset stories260k --base-dtype f8 --steps 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--base-dtype"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace peft
