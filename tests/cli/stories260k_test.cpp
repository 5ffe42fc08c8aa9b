// End to end on the real stories260K: convert, tokenize, greedy generation = llama2.c's run.c.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"

namespace peft {
namespace {

using test::run_peft;

std::string convert_stories(const test::TempDir& dir) {
  const std::string out = dir / "stories260K";
  auto r = test::convert_stories260k(out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return out;
}

TEST(Stories260K, GreedyGenerationMatchesLlama2c) {
  test::TempDir dir;
  const std::string model = convert_stories(dir);
  auto cases = nlohmann::json::parse(test::read_all(test::fixture_path("stories260K/greedy.json")));
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    const std::string prompt = c["prompt"];
    const int64_t steps = c["steps"];
    const int64_t prompt_len = int64_t(c["prompt_token_ids"].size());
    // run.c counts positions including BOS; the rest are new tokens.
    const int64_t new_tokens = steps + 1 - prompt_len;
    auto r = run_peft("generate --model " + model + " --prompt \"" + prompt + "\" --temperature 0 --max-new-tokens " +
                      std::to_string(new_tokens));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, c["text"].get<std::string>()) << "prompt: " << prompt;

    auto tok = run_peft("tokenize --model " + model, prompt + "\n");
    ASSERT_EQ(tok.exit_code, 0) << tok.err;
    std::string want;
    for (const auto& id : c["prompt_token_ids"]) want += (want.empty() ? "" : " ") + std::to_string(id.get<int>());
    EXPECT_EQ(tok.out, want + "\n");
  }
}

TEST(Stories260K, ConvertedFolderIsAHuggingFaceLlama) {
  test::TempDir dir;
  const std::string model = convert_stories(dir);
  auto config = nlohmann::json::parse(test::read_all(model + "/config.json"));
  EXPECT_EQ(config["model_type"], "llama");
  EXPECT_EQ(config["hidden_size"], 64);
  EXPECT_EQ(config["num_hidden_layers"], 5);
  EXPECT_EQ(config["num_key_value_heads"], 4);
  EXPECT_TRUE(std::filesystem::exists(model + "/model.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(model + "/tokenizer.model"));
  EXPECT_TRUE(std::filesystem::exists(model + "/tokenizer_config.json"));
  EXPECT_TRUE(std::filesystem::exists(model + "/generation_config.json"));
  auto r = run_peft("inspect " + model);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("architecture: llama"), std::string::npos);
  EXPECT_NE(r.out.find("model.layers.4.self_attn.q_proj.weight"), std::string::npos);
}

TEST(Stories260K, SamplingIsSeeded) {
  test::TempDir dir;
  const std::string model = convert_stories(dir);
  const std::string args = "generate --model " + model +
                           " --prompt \"Lily\" --max-new-tokens 30 --temperature 0.9 --top-k 40 --top-p 0.95 --seed ";
  auto a = run_peft(args + "3"), b = run_peft(args + "3"), c = run_peft(args + "4");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  EXPECT_EQ(a.out.rfind("Lily", 0), 0u);
}

}  // namespace
}  // namespace peft
