// Every input a fuzzer found (fuzz/regressions/<target>/) replayed through the reader it broke,
// with what it must do now. Crashes and timeouts become rows here before they are fixed.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "adapters/registry.h"
#include "cli/cli_runner.h"
#include "core/memory.h"
#include "io/json_file.h"
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
