// LLM-Adapters tokenization: BOS, EOS, truncation at cutoff and user-prompt masking, on the real tok512.
#include <gtest/gtest.h>

#include <algorithm>

#include "data/prompt.h"
#include "data/tokenize_example.h"
#include "test_paths.h"

namespace peft {
namespace {

std::unique_ptr<Tokenizer> tok512() {
  auto tok = load_tokenizer(test::shared_path("data/models/stories260K/tok512.model"));
  EXPECT_TRUE(tok.is_ok()) << tok.status().message();
  return tok.is_ok() ? std::move(tok).value() : nullptr;
}

Record instruction(std::string ins, std::string input, std::string output) {
  Record r;
  r.instruction = std::move(ins);
  r.input = std::move(input);
  r.output = std::move(output);
  return r;
}

// One id per byte (id = byte + 3), BOS 1 / EOS 2 around the text when asked, like a
// tokenizer.json whose post-processor appends EOS: exercises HF truncation keeping specials.
class ByteTokenizer : public Tokenizer {
 public:
  ByteTokenizer(bool bos, bool eos_suffix) : bos_(bos), eos_suffix_(eos_suffix) {}
  std::vector<int32_t> encode(std::string_view text, bool add_bos) const override {
    std::vector<int32_t> ids;
    if (add_bos && bos_) ids.push_back(1);
    for (unsigned char c : text) ids.push_back(int32_t(c) + 3);
    if (add_bos && eos_suffix_) ids.push_back(2);
    return ids;
  }
  std::string decode(std::span<const int32_t>) const override { return {}; }
  int32_t vocab_size() const override { return 259; }
  int32_t bos_id() const override { return bos_ ? 1 : -1; }
  int32_t eos_id() const override { return 2; }
  std::string kind() const override { return "test-bytes"; }

 private:
  bool bos_, eos_suffix_;
};

TEST(TokenizeExample, BosAndEosLikeLlamaTokenizer) {
  auto tok = tok512();
  ASSERT_TRUE(tok);
  Record r = instruction("Tell a story.", "", "Once upon a time there was a cat.");
  TokenizedExample ex = tokenize_record(*tok, r, TokenizeOptions{});
  std::vector<int32_t> plain = tok->encode(record_prompt(r), true);
  ASSERT_EQ(ex.ids.size(), plain.size() + 1);
  EXPECT_EQ(ex.ids.front(), tok->bos_id());
  EXPECT_EQ(ex.ids.back(), tok->eos_id());
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), ex.ids.begin()));
  EXPECT_EQ(ex.labels, ex.ids);  // train_on_inputs defaults to true
  EXPECT_EQ(ex.n_masked, 0);
  EXPECT_FALSE(ex.truncated);
}

TEST(TokenizeExample, MaskLengthIsTheSeparatelyTokenizedUserPrompt) {
  auto tok = tok512();
  ASSERT_TRUE(tok);
  for (const Record& r : {instruction("Add the numbers.", "2 and 3", "5"),
                          instruction("What is 16 - 12?", "", "\nA: 16 - 12 = 4. The answer is 4.")}) {
    TokenizeOptions opt;
    opt.train_on_inputs = false;
    TokenizedExample ex = tokenize_record(*tok, r, opt);
    const int64_t user_len = int64_t(tok->encode(record_user_prompt(r), true).size());
    ASSERT_EQ(ex.n_masked, user_len);
    ASSERT_LT(user_len, int64_t(ex.ids.size()));
    for (int64_t t = 0; t < int64_t(ex.ids.size()); ++t)
      EXPECT_EQ(ex.labels[size_t(t)], t < user_len ? kIgnoreLabel : ex.ids[size_t(t)]) << t;
    EXPECT_EQ(ex.labels.back(), tok->eos_id());  // the response's EOS is trained on
  }
}

TEST(TokenizeExample, TruncationAtCutoffGetsNoEos) {
  auto tok = tok512();
  ASSERT_TRUE(tok);
  Record r = instruction("Tell a long story about a dog and a cat and a bird.", "", "Once upon a time ...");
  std::vector<int32_t> full = tok->encode(record_prompt(r), true);
  ASSERT_GT(full.size(), 20u);
  TokenizeOptions opt;
  opt.cutoff_len = 20;
  opt.train_on_inputs = false;
  TokenizedExample ex = tokenize_record(*tok, r, opt);
  EXPECT_TRUE(ex.truncated);
  ASSERT_EQ(ex.ids.size(), 20u);
  EXPECT_EQ(ex.ids, std::vector<int32_t>(full.begin(), full.begin() + 20));
  EXPECT_NE(ex.ids.back(), tok->eos_id());
  // The user prompt is truncated too, so every label is masked: nothing left to learn.
  EXPECT_EQ(ex.n_masked, 20);
  EXPECT_TRUE(std::all_of(ex.labels.begin(), ex.labels.end(), [](int32_t l) { return l == kIgnoreLabel; }));

  // Exactly at the cutoff: not truncated, but no room for EOS either (len < cutoff_len fails).
  opt.cutoff_len = int64_t(full.size());
  TokenizedExample exact = tokenize_record(*tok, r, opt);
  EXPECT_FALSE(exact.truncated);
  EXPECT_EQ(exact.ids, full);
}

TEST(TokenizeExample, TrainOnInputsKeepsAllLabels) {
  auto tok = tok512();
  ASSERT_TRUE(tok);
  TokenizeOptions opt;
  opt.train_on_inputs = true;
  TokenizedExample ex = tokenize_record(*tok, instruction("Add.", "1 and 1", "2"), opt);
  EXPECT_EQ(ex.labels, ex.ids);
  EXPECT_EQ(ex.n_masked, 0);
}

TEST(TokenizeExample, TextRecordsAreNeverMasked) {
  auto tok = tok512();
  ASSERT_TRUE(tok);
  Record r;
  r.kind = RecordKind::Text;
  r.text = "Lily went to the park.";
  TokenizeOptions opt;
  opt.train_on_inputs = false;
  TokenizedExample ex = tokenize_record(*tok, r, opt);
  EXPECT_EQ(ex.labels, ex.ids);
  EXPECT_EQ(ex.ids.front(), tok->bos_id());
  EXPECT_EQ(ex.ids.back(), tok->eos_id());
}

TEST(TokenizeExample, AddEosFalse) {
  auto tok = tok512();
  ASSERT_TRUE(tok);
  TokenizedExample ex = tokenize_prompt(*tok, "Hello", 256, /*add_eos=*/false);
  EXPECT_EQ(ex.ids, tok->encode("Hello", true));
}

TEST(TokenizeExample, HfTruncationKeepsTrailingSpecialTokens) {
  ByteTokenizer tok(/*bos=*/true, /*eos_suffix=*/true);
  TokenizedExample ex = tokenize_prompt(tok, "abcdefgh", 6, true);
  // BOS + 4 text ids + the post-processor's EOS; EOS already last, so none is appended.
  EXPECT_EQ(ex.ids, (std::vector<int32_t>{1, 'a' + 3, 'b' + 3, 'c' + 3, 'd' + 3, 2}));
  EXPECT_TRUE(ex.truncated);
  TokenizedExample fits = tokenize_prompt(tok, "ab", 6, true);
  EXPECT_EQ(fits.ids, (std::vector<int32_t>{1, 'a' + 3, 'b' + 3, 2}));
}

TEST(TokenizeExample, NoBosTokenizerLikeGpt2) {
  ByteTokenizer tok(/*bos=*/false, /*eos_suffix=*/false);
  EXPECT_EQ(tokenize_prompt(tok, "ab", 8, true).ids, (std::vector<int32_t>{'a' + 3, 'b' + 3, 2}));
  EXPECT_EQ(tokenize_prompt(tok, "", 8, true).ids, (std::vector<int32_t>{2}));
}

TEST(TokenizeExample, ParallelMatchesSerial) {
  auto tok = tok512();
  ASSERT_TRUE(tok);
  std::vector<Record> records;
  for (int i = 0; i < 200; ++i)
    records.push_back(instruction("Count to " + std::to_string(i), i % 3 ? "" : "slowly", std::to_string(i)));
  TokenizeOptions opt;
  opt.train_on_inputs = false;
  opt.cutoff_len = 40;
  std::vector<TokenizedExample> all = tokenize_records(*tok, records, opt);
  ASSERT_EQ(all.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    TokenizedExample one = tokenize_record(*tok, records[i], opt);
    EXPECT_EQ(all[i].ids, one.ids);
    EXPECT_EQ(all[i].labels, one.labels);
    EXPECT_EQ(all[i].truncated, one.truncated);
  }
}

}  // namespace
}  // namespace peft
