// GPT-2 byte-level BPE from encoder.json + vocab.bpe and from a generated tokenizer.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "cli/cli_runner.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_test_util.h"

namespace peft {
namespace {

using test::TempDir;

std::unique_ptr<Tokenizer> must_load(const std::string& path) {
  auto tok = load_tokenizer(path);
  EXPECT_TRUE(tok.is_ok()) << tok.status().message();
  return tok.is_ok() ? std::move(tok).value() : nullptr;
}

// Every llama.cpp GPT-2 vector, without and with add_bos (GPT-2 adds nothing), and back.
void expect_gpt2_vectors(const Tokenizer& tok, const std::string& label) {
  auto vectors = test::read_llama_cpp_vectors(test::vectors_base("gpt-2"));
  ASSERT_EQ(vectors.size(), 46u);
  int matched = 0;
  for (size_t i = 0; i < vectors.size(); ++i) {
    const auto& v = vectors[i];
    auto got = tok.encode(v.text, false);
    EXPECT_EQ(got, v.ids) << label << " vector " << i << ": \"" << v.text << "\"";
    matched += got == v.ids;
    EXPECT_EQ(tok.encode(v.text, true), got) << label << " vector " << i;
    EXPECT_EQ(tok.decode(got), v.text) << label << " vector " << i;
  }
  std::printf("llama.cpp GPT-2 vectors (%s): %d / %zu match\n", label.c_str(), matched, vectors.size());
}

TEST(Gpt2Files, LlamaCppVectors) {
  auto tok = must_load(test::gpt2_dir());
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->kind(), "gpt2-bpe");
  EXPECT_EQ(tok->vocab_size(), 50257);
  EXPECT_EQ(tok->bos_id(), 50256);
  EXPECT_EQ(tok->eos_id(), 50256);
  EXPECT_FALSE(tok->add_bos_default());
  expect_gpt2_vectors(*tok, "encoder.json + vocab.bpe");
}

TEST(Gpt2Files, EitherFileOfThePairLoadsBoth) {
  for (const char* name : {"/encoder.json", "/vocab.bpe"}) {
    auto tok = must_load(test::gpt2_dir() + name);
    ASSERT_TRUE(tok);
    EXPECT_EQ(tok->encode("Hello world", false), (std::vector<int32_t>{15496, 995}));
  }
}

TEST(Gpt2Files, EndOfTextIsSpecial) {
  auto tok = must_load(test::gpt2_dir());
  ASSERT_TRUE(tok);
  // Matched in text as one token (as GPT2Tokenizer does), skipped by decode.
  EXPECT_EQ(tok->encode("a<|endoftext|>b", false), (std::vector<int32_t>{64, 50256, 65}));
  EXPECT_EQ(tok->decode(std::vector<int32_t>{64, 50256, 65}), "ab");
  EXPECT_TRUE(tok->is_special(50256));
  EXPECT_FALSE(tok->is_special(64));
  EXPECT_EQ(tok->token_text(50256), "<|endoftext|>");
  EXPECT_EQ(tok->token_text(262), "\xC4\xA0the");  // "Ġthe"
  EXPECT_EQ(tok->token_id("\xC4\xA0the"), 262);
  EXPECT_EQ(tok->token_id("not a token at all"), -1);
  EXPECT_EQ(tok->token_text(50257), "");
  // Out-of-range ids are skipped, not a crash.
  EXPECT_EQ(tok->decode(std::vector<int32_t>{-1, 15496, 99999999}), "Hello");
}

TEST(Gpt2Files, MultiByteCharactersSplitAcrossTokensDecodeWhole) {
  auto tok = must_load(test::gpt2_dir());
  ASSERT_TRUE(tok);
  const std::string text = "\xF0\x9F\xA6\x99 llama";  // 🦙: bytes spread over several tokens
  auto ids = tok->encode(text, false);
  ASSERT_GT(ids.size(), 2u);
  EXPECT_EQ(tok->decode(ids), text);
  // Prefixes decode to byte prefixes (no U+FFFD), so streamed text only grows.
  std::string prev;
  for (size_t n = 1; n <= ids.size(); ++n) {
    std::string part = tok->decode(std::span<const int32_t>(ids).first(n));
    EXPECT_EQ(part.compare(0, prev.size(), prev), 0);
    prev = part;
  }
}

// The word cache is shared: two threads encoding at once get what one thread gets.
TEST(Gpt2Files, ConcurrentEncodeIsConsistent) {
  auto tok = must_load(test::gpt2_dir());
  ASSERT_TRUE(tok);
  std::vector<std::string> texts;
  for (const auto& v : test::read_llama_cpp_vectors(test::vectors_base("gpt-2"))) texts.push_back(v.text);
  std::vector<std::vector<int32_t>> want;
  for (const auto& t : texts) want.push_back(tok->encode(t, false));
  auto fresh = must_load(test::gpt2_dir());
  std::vector<std::vector<std::vector<int32_t>>> got(2);
  std::vector<std::thread> threads;
  for (int k = 0; k < 2; ++k) {
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 20; ++rep)
        for (const auto& t : texts) got[k].push_back(fresh->encode(t, false));
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < 2; ++k)
    for (size_t i = 0; i < got[k].size(); ++i) ASSERT_EQ(got[k][i], want[i % texts.size()]);
}

TEST(Gpt2Files, InvalidUtf8InputStillRoundTrips) {
  auto tok = must_load(test::gpt2_dir());
  ASSERT_TRUE(tok);
  const std::string text = "ok \xFF\xC3 bad \xE2\x82 bytes";
  EXPECT_EQ(tok->decode(tok->encode(text, false)), text);
}

TEST(Gpt2TokenizerJson, VectorsWithBothMergeSpellings) {
  TempDir dir;
  for (bool pairs : {false, true}) {
    const std::string path = dir / (pairs ? "pairs.json" : "strings.json");
    test::write_file(path, test::gpt2_tokenizer_json(pairs).dump());
    auto tok = must_load(path);
    ASSERT_TRUE(tok);
    EXPECT_EQ(tok->kind(), "tokenizer.json");
    EXPECT_EQ(tok->vocab_size(), 50257);
    // No tokenizer_config.json: <|endoftext|> is recognised as GPT-2's BOS/EOS by name.
    EXPECT_EQ(tok->bos_id(), 50256);
    EXPECT_EQ(tok->eos_id(), 50256);
    EXPECT_FALSE(tok->add_bos_default());
    expect_gpt2_vectors(*tok, pairs ? "tokenizer.json, [a, b] merges" : "tokenizer.json, \"a b\" merges");
  }
}

TEST(Gpt2Files, FolderWithHalfThePair) {
  TempDir dir;
  std::filesystem::copy_file(test::gpt2_dir() + "/encoder.json", dir / "encoder.json");
  auto tok = load_tokenizer(dir.path());
  ASSERT_FALSE(tok.is_ok());
  EXPECT_NE(tok.status().message().find("needs vocab.bpe"), std::string::npos) << tok.status().message();
}

TEST(Gpt2Files, BadMergesLine) {
  TempDir dir;
  std::filesystem::copy_file(test::gpt2_dir() + "/encoder.json", dir / "encoder.json");
  test::write_file(dir / "vocab.bpe", "#version: 0.2\n\xC4\xA0 t\nthree parts here\n");
  auto tok = load_tokenizer(dir.path());
  ASSERT_FALSE(tok.is_ok());
  EXPECT_EQ(tok.status().message(),
            (dir / "vocab.bpe") + ": line 3 is not two tokens separated by one space: 'three parts here'");
}

}  // namespace
}  // namespace peft
