// peft tokenize end to end: GPT-2 folder, --json (texts with newlines and quotes), --add-special,
// --decode round trips, and a tokenizer too large for the model.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"
#include "tokenizer/tokenizer.h"

namespace peft {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_peft;

std::string gpt2_dir() { return test::shared_path("data/tokenizers/gpt2"); }
std::string llama2_dir() { return test::shared_path("data/tokenizers/llama2"); }

TEST(TokenizeCli, Gpt2FolderLineMode) {
  auto r = run_peft("tokenize --tokenizer " + gpt2_dir(), "Hello world\n Hello World!\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "15496 995\n18435 2159 0\n");  // no BOS for GPT-2
  auto d = run_peft("tokenize --decode --tokenizer " + gpt2_dir(), r.out);
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, "Hello world\n Hello World!\n");
}

TEST(TokenizeCli, JsonModeWithNewlinesAndQuotes) {
  const std::vector<std::string> texts = {"Hello world", "line one\nline \"two\"\n", "", "tab\there \\ back\\slash",
                                          "\xF0\x9F\xA6\x99 <|endoftext|>"};
  auto tok = load_tokenizer(gpt2_dir());
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  json want = json::array();
  for (const auto& t : texts) want.push_back((*tok)->encode(t, false));
  auto r = run_peft("tokenize --json --tokenizer " + gpt2_dir(), json(texts).dump());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, want.dump() + "\n");
  EXPECT_EQ(json::parse(r.out)[0], json({15496, 995}));
  // --decode --json turns the id arrays back into the texts ("<|endoftext|>" is special).
  auto d = run_peft("tokenize --json --decode --tokenizer " + gpt2_dir(), r.out);
  ASSERT_EQ(d.exit_code, 0) << d.err;
  json back = json::parse(d.out);
  ASSERT_EQ(back.size(), texts.size());
  for (size_t i = 0; i + 1 < texts.size(); ++i) EXPECT_EQ(back[i], texts[i]);
  EXPECT_EQ(back[4], "\xF0\x9F\xA6\x99 ");
}

TEST(TokenizeCli, JsonAddSpecial) {
  const std::string in = R"(["Hello world", "two\nlines"])";
  auto plain = run_peft("tokenize --json --tokenizer " + llama2_dir(), in);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  auto special = run_peft("tokenize --json --add-special --tokenizer " + llama2_dir(), in);
  ASSERT_EQ(special.exit_code, 0) << special.err;
  json a = json::parse(plain.out), b = json::parse(special.out);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0], json({15043, 3186}));
  for (size_t i = 0; i < a.size(); ++i) {
    json with_bos = json::array({1});
    for (const auto& id : a[i]) with_bos.push_back(id);
    EXPECT_EQ(b[i], with_bos);
  }
  // GPT-2 adds nothing even when asked.
  auto gpt2 = run_peft("tokenize --json --add-special --tokenizer " + gpt2_dir(), in);
  ASSERT_EQ(gpt2.exit_code, 0) << gpt2.err;
  EXPECT_EQ(json::parse(gpt2.out)[0], json({15496, 995}));
  // Line mode keeps LLaMA's BOS by default.
  auto line = run_peft("tokenize --tokenizer " + llama2_dir(), "Hello world\n");
  EXPECT_EQ(line.out, "1 15043 3186\n");
}

TEST(TokenizeCli, BadJsonInput) {
  auto r = run_peft("tokenize --json --tokenizer " + gpt2_dir(), "[\"ok\", 3]");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("stdin: element 1 is not a string"), std::string::npos) << r.err;
  r = run_peft("tokenize --json --tokenizer " + gpt2_dir(), "not json");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("stdin: invalid JSON at byte"), std::string::npos) << r.err;
  r = run_peft("tokenize --json --decode --tokenizer " + gpt2_dir(), "[[1, 50257]]");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("stdin: element 0: 50257 is not a token id in [0, 50257)"), std::string::npos) << r.err;
  r = run_peft("tokenize --json --no-bos --add-special --tokenizer " + gpt2_dir(), "[]");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--no-bos applies to line mode; --json adds no special tokens unless --add-special"),
            std::string::npos)
      << r.err;
}

TEST(TokenizeCli, MissingTokenizerNamesWhatItLookedFor) {
  test::TempDir dir;
  auto r = run_peft("tokenize --tokenizer " + dir.path(), "x\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no tokenizer found (looked for tokenizer.json, tokenizer.model, spm.model, vocab.json + "
                       "merges.txt, vocab.txt, encoder.json + vocab.bpe)"),
            std::string::npos)
      << r.err;
}

// GPT-2's 50257-token vocabulary beside a model with 256 embeddings is refused.
TEST(TokenizeCli, TokenizerLargerThanModelVocabulary) {
  test::TempDir dir;
  const std::string model = dir / "gpt2";
  fs::copy(test::fixture_path("gpt2/model"), model, fs::copy_options::recursive);
  fs::permissions(model, fs::perms::owner_all, fs::perm_options::add);
  fs::copy_file(gpt2_dir() + "/encoder.json", model + "/encoder.json");
  fs::copy_file(gpt2_dir() + "/vocab.bpe", model + "/vocab.bpe");
  auto r = run_peft("generate --model " + model + " --prompt hi --max-new-tokens 1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("tokenizer has 50257 tokens but the model's vocab_size is 256"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace peft
