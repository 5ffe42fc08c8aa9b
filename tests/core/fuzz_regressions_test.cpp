// Every input a fuzzer found (fuzz/regressions/<target>/) replayed through the reader it broke,
// with what it must do now. Crashes and timeouts become rows here before they are fixed.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "adapters/registry.h"
#include "cli/cli_runner.h"
#include "core/memory.h"
#include "data/chat_template.h"
#include "io/json_file.h"
#include "model/arch.h"
#include "model/math_keys.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace peft {
namespace {

namespace fs = std::filesystem;

std::string regression(const std::string& target, const std::string& name) {
  return std::string(PEFT_SOURCE_DIR) + "/fuzz/regressions/" + target + "/" + name;
}

// fuzz_adapter_config: a bottleneck of 97,526 on the llama fixture (width 64) passed the
// memory check (75M parameters) and took 25 s to initialise under ASan. Now refused at once
// as larger than 16 times the model.
TEST(FuzzRegressions, AdapterConfigBottleneckSize97526IsRefusedAtOnce) {
  auto model = load_model(test::fixture_path("llama/model"));
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  auto json = read_json_file(regression("adapter_config", "timeout-bottleneck-size-97526.json"));
  ASSERT_TRUE(json.is_ok()) << json.status().message();
  const auto t0 = std::chrono::steady_clock::now();
  auto adapter = find_method("bottleneck")->create(**model, *json, "adapter_config.json", 1);
  ASSERT_FALSE(adapter.is_ok());
  EXPECT_NE(adapter.status().message().find("more than 16 times the model's"), std::string::npos)
      << adapter.status().message();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
}

// fuzz_sentencepiece (CI's 30-s smoke run): a piece "\0\0\0" reached libsentencepiece, whose
// Darts trie builder reads keys as C strings, saw a zero-length key and threw out of the
// process (abort). Now refused by our own check of the pieces before the library sees them.
TEST(FuzzRegressions, SentencePieceNulPieceIsRefused) {
  auto tok = load_tokenizer(regression("sentencepiece", "crash-nul-piece.model"));
  ASSERT_FALSE(tok.is_ok());
  EXPECT_NE(tok.status().message().find("piece 1 is empty or holds a NUL byte"), std::string::npos)
      << tok.status().message();
}

// fuzz_chat_template (the first 90-s run): an integer literal of 58 digits in a macro default
// made std::stoll throw out of the parser (abort). Now a template error naming the line.
TEST(FuzzRegressions, ChatTemplateIntegerLiteralOutOfRangeIsATemplateError) {
  std::ifstream f(regression("chat_template", "crash-integer-literal-out-of-range.jinja"), std::ios::binary);
  const std::string source((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(source.empty());
  auto t = parse_chat_template(source, "t.jinja");
  ASSERT_FALSE(t.is_ok());
  EXPECT_NE(t.status().message().find("t.jinja: template line 1: the number 2222"), std::string::npos)
      << t.status().message();
  EXPECT_NE(t.status().message().find("is out of range"), std::string::npos) << t.status().message();
}

// fuzz_config_json (the first 90-s run): num_hidden_layers 3,912,439,923 through the smollm3
// parser built one RoPE flag per layer (29 s, 4 GB). Now refused before.
TEST(FuzzRegressions, ConfigJsonSmolLm3HugeLayerCountIsRefusedAtOnce) {
  auto json = read_json_file(regression("config_json", "timeout-smollm3-3912439923-layers.json"));
  ASSERT_TRUE(json.is_ok()) << json.status().message();
  const auto t0 = std::chrono::steady_clock::now();
  auto c = parse_model_config(*find_arch("smollm3"), *json, "config.json");
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("num_hidden_layers must be in [1, 100000], found 3912439923"), std::string::npos)
      << c.status().message();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
}

TEST(Memory, ChecksNameWhatTheyNeedAndWhatIsAvailable) {
  EXPECT_TRUE(check_memory(1 << 20, "a megabyte").is_ok());
  Status s = check_memory(int64_t(1) << 60, "an exabyte buffer");
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("an exabyte buffer needs 1073741824.00 GiB"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("GiB available"), std::string::npos);
  EXPECT_FALSE(check_memory(-1, "an overflowed size").is_ok());
  EXPECT_EQ(checked_mul(int64_t(1) << 40, int64_t(1) << 40), -1);
  EXPECT_EQ(checked_mul(3, 4), 12);
}

}  // namespace
}  // namespace peft
