// SpmVocabTokenizer (SentencePiece BPE from pieces/scores/types) against libsentencepiece.
#include <gtest/gtest.h>
#include <sentencepiece_processor.h>

#include <algorithm>
#include <random>

#include "test_paths.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_test_util.h"
#include "tokenizer/vocab_spec.h"

namespace peft {
namespace {

std::unique_ptr<Tokenizer> from_vocab(const VocabSpec& v) {
  auto tok = tokenizer_from_vocab(v, "test vocab");
  EXPECT_TRUE(tok.is_ok()) << tok.status().message();
  return tok.is_ok() ? std::move(tok).value() : nullptr;
}

std::vector<int32_t> sp_encode(const sentencepiece::SentencePieceProcessor& sp, const std::string& text) {
  std::vector<int> ids;
  EXPECT_TRUE(sp.Encode(text, &ids).ok());
  return {ids.begin(), ids.end()};
}

TEST(SpmVocab, LlamaCppLlama2Vectors) {
  auto tok = from_vocab(test::vocab_from_sentencepiece(test::llama2_model()));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->kind(), "spm-bpe");
  EXPECT_EQ(tok->vocab_size(), 32000);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_TRUE(tok->add_bos_default());
  auto vectors = test::read_llama_cpp_vectors(test::vectors_base("llama-spm"));
  ASSERT_EQ(vectors.size(), 46u);
  int matched = 0;
  for (size_t i = 0; i < vectors.size(); ++i) {
    auto got = tok->encode(vectors[i].text, false);
    EXPECT_EQ(got, vectors[i].ids) << "vector " << i << ": \"" << vectors[i].text << "\"";
    matched += got == vectors[i].ids;
    auto with_bos = tok->encode(vectors[i].text, true);
    ASSERT_FALSE(with_bos.empty());
    EXPECT_EQ(with_bos[0], 1);
    EXPECT_EQ(std::vector<int32_t>(with_bos.begin() + 1, with_bos.end()), got);
    EXPECT_EQ(tok->decode(with_bos), vectors[i].text) << "vector " << i;
  }
  std::printf("llama.cpp Llama-2 vectors (SpmVocabTokenizer): %d / %zu match\n", matched, vectors.size());
}

// Texts that exercise the corners: whitespace runs, control-token spellings (plain text
// for sentencepiece), unknown characters (byte fallback), emoji, CJK, "▁" itself.
const std::vector<std::string> kEdgeTexts = {
    "",
    " ",
    "  ",
    "a",
    " a",
    "a ",
    "  two  spaces  ",
    "\n",
    "\n\n\t\r\n",
    "<s> not special </s>",
    "<unk>",
    "\xE2\x96\x81 literal marker \xE2\x96\x81\xE2\x96\x81",
    "\xF0\x9F\xA6\x99\xF0\x9F\xA6\x99 llamas",
    "\xE6\x88\x91\xE6\x83\xB3\xE5\x9C\xA8 apple",
    "\xC3\x84pfel und Birnen",
    "3.14159 + 2,718 = 5.86",
    "<0x0A>",
    "\xEA\xB0\x80\xEB\x82\x98\xEB\x8B\xA4 \xE0\xB8\x81\xE0\xB8\xB2\xE0\xB8\xA3",
    "x\xCC\x81\xCC\x82 combining"};

void expect_same_as_sentencepiece(const std::string& model) {
  sentencepiece::SentencePieceProcessor sp;
  ASSERT_TRUE(sp.Load(model).ok());
  auto tok = from_vocab(test::vocab_from_sentencepiece(model));
  ASSERT_TRUE(tok);
  for (const std::string& text : kEdgeTexts) {
    EXPECT_EQ(tok->encode(text, false), sp_encode(sp, text)) << model << ": \"" << text << "\"";
  }
  // An even sample of every data set file.
  size_t texts = 0, mismatches = 0;
  for (const auto& file : test::dataset_texts()) {
    const size_t step = std::max<size_t>(1, file.texts.size() / 25);
    for (size_t i = 0; i < file.texts.size(); i += step, ++texts) {
      const std::string& text = file.texts[i];
      auto got = tok->encode(text, false);
      if (got != sp_encode(sp, text) && ++mismatches <= 5) ADD_FAILURE() << file.path << " text " << i << ": " << text;
    }
  }
  EXPECT_EQ(mismatches, 0u);
  std::printf("%s: SpmVocabTokenizer == sentencepiece on %zu data set texts + %zu edge texts\n", model.c_str(), texts,
              kEdgeTexts.size());
}

TEST(SpmVocab, SameIdsAsSentencePieceLlama2) { expect_same_as_sentencepiece(test::llama2_model()); }
TEST(SpmVocab, SameIdsAsSentencePieceTok512) { expect_same_as_sentencepiece(test::tok512_model()); }

// Decoding random id sequences (normal pieces, BOS/EOS, unk, and byte tokens forming whole
// UTF-8 characters) gives sentencepiece's text.
void expect_decode_like_sentencepiece(const std::string& model, bool with_unk) {
  sentencepiece::SentencePieceProcessor sp;
  ASSERT_TRUE(sp.Load(model).ok());
  auto tok = from_vocab(test::vocab_from_sentencepiece(model));
  ASSERT_TRUE(tok);
  const int32_t n = tok->vocab_size();
  std::mt19937 rng(7);
  const std::vector<std::vector<int32_t>> byte_runs = {
      {3 + 0x0A}, {3 + 0xC3, 3 + 0xA9}, {3 + 0x20}, {3 + 0xE2, 3 + 0x96, 3 + 0x81}};
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<int32_t> ids;
    const int len = 1 + int(rng() % 12);
    for (int k = 0; k < len; ++k) {
      const unsigned r = rng() % 10;
      if (r == 0) ids.push_back(int32_t(rng() % 3));  // <unk>, <s>, </s>
      if (r == 0 && !with_unk && ids.back() == 0)
        ids.back() = 1;
      else if (r == 1)
        for (int32_t b : byte_runs[rng() % byte_runs.size()]) ids.push_back(b);
      else
        ids.push_back(259 + int32_t(rng() % uint32_t(n - 259)));
    }
    std::string want;
    ASSERT_TRUE(sp.Decode(std::vector<int>(ids.begin(), ids.end()), &want).ok());
    EXPECT_EQ(tok->decode(ids), want) << model << " trial " << trial;
  }
}

TEST(SpmVocab, DecodeMatchesSentencePieceLlama2) { expect_decode_like_sentencepiece(test::llama2_model(), true); }
// tok512.model's trainer spec spells unk's surface as the escaped text "\\342\\201\\207";
// a vocabulary (like GGUF's) does not carry it, so <unk> decodes as " ⁇ " here.
TEST(SpmVocab, DecodeMatchesSentencePieceTok512) { expect_decode_like_sentencepiece(test::tok512_model(), false); }

TEST(SpmVocab, Tok512GreedyFixturePrompts) {
  auto tok = from_vocab(test::vocab_from_sentencepiece(test::tok512_model()));
  ASSERT_TRUE(tok);
  auto fixture = test::Json::parse(test::read_file(test::shared_path("fixtures/stories260K/greedy.json")));
  for (const auto& run : fixture) {
    EXPECT_EQ(tok->encode(run["prompt"].get<std::string>(), true), run["prompt_token_ids"].get<std::vector<int32_t>>());
  }
}

TEST(SpmVocab, UserDefinedPiecesAreMatchedWhole) {
  VocabSpec v = test::vocab_from_sentencepiece(test::tok512_model());
  v.tokens.push_back("<tool>");
  v.scores.push_back(0);
  v.token_types.push_back(int32_t(TokenType::UserDefined));
  auto tok = from_vocab(v);
  ASSERT_TRUE(tok);
  const int32_t id = int32_t(v.tokens.size()) - 1;
  auto ids = tok->encode("a<tool>b", false);
  EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end());
  EXPECT_EQ(tok->decode(ids), "a<tool>b");
}

TEST(VocabSpecErrors, ClearMessages) {
  VocabSpec v = test::vocab_from_sentencepiece(test::tok512_model());
  auto expect_error = [](const VocabSpec& s, const std::string& want) {
    auto tok = tokenizer_from_vocab(s, "m.gguf");
    ASSERT_FALSE(tok.is_ok());
    EXPECT_EQ(tok.status().message(), want);
  };
  VocabSpec bad = v;
  bad.model = "bert";
  expect_error(bad, "m.gguf: unsupported tokenizer model 'bert' (supported: llama, gpt2)");
  bad = v;
  bad.scores.pop_back();
  expect_error(bad, "m.gguf: 512 tokens but 511 scores (a SentencePiece BPE vocabulary needs one score per token)");
  bad = v;
  bad.bos = 512;
  expect_error(bad, "m.gguf: bos token id 512 outside the vocabulary (size 512)");
  bad = v;
  bad.token_types.resize(3);
  expect_error(bad, "m.gguf: 512 tokens but 3 token types");
  bad = VocabSpec{};
  bad.model = "llama";
  expect_error(bad, "m.gguf: the vocabulary has no tokens");
}

}  // namespace
}  // namespace peft
