// Segments → per-token modality ids on the real stories260K SentencePiece and GPT-2 tokenizers:
// whole fields, straddling tokens, multi-byte characters, truncation, real data, bad decodes.
#include <gtest/gtest.h>

#include <algorithm>

#include "data/dataset.h"
#include "data/prompt.h"
#include "data/segments.h"
#include "data/token_ends.h"
#include "data/token_modality.h"
#include "data/tokenize_example.h"
#include "test_paths.h"

namespace peft {
namespace {

const std::vector<std::string> kNames = {"text", "instruction", "output", "code"};

std::unique_ptr<Tokenizer> must_load(const std::string& rel) {
  auto tok = load_tokenizer(test::shared_path(rel));
  EXPECT_TRUE(tok.is_ok()) << tok.status().message();
  return tok.is_ok() ? std::move(tok).value() : nullptr;
}
std::unique_ptr<Tokenizer> tok512() { return must_load("data/models/stories260K/tok512.model"); }
std::unique_ptr<Tokenizer> gpt2() { return must_load("data/tokenizers/gpt2"); }
std::unique_ptr<Tokenizer> llama2() { return must_load("data/tokenizers/llama2/tokenizer.model"); }

Record instruction(std::string ins, std::string input, std::string output, std::vector<Segment> segments) {
  Record r;
  r.instruction = std::move(ins);
  r.input = std::move(input);
  r.output = std::move(output);
  r.segments = std::move(segments);
  r.where = "data.jsonl: line 1";
  return r;
}

Segment whole(const std::string& modality, const std::string& field, const std::string& text) {
  return Segment{modality, field, 0, code_points(text)};
}

// The oracle: where `piece` (tokenized on its own) occurs in ids, as a contiguous run.
int64_t find_run(const std::vector<int32_t>& ids, const std::vector<int32_t>& piece) {
  auto it = std::search(ids.begin(), ids.end(), piece.begin(), piece.end());
  return it == ids.end() ? -1 : int64_t(it - ids.begin());
}

std::vector<int32_t> modalities_of(const Tokenizer& tok, const Record& r, const std::vector<int32_t>& ids) {
  auto m = token_modalities(tok, r, ids, kNames);
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  if (m.is_ok()) {
    EXPECT_EQ(m->size(), ids.size());
  }
  return m.is_ok() ? std::move(m).value() : std::vector<int32_t>{};
}

// Whole-field segments mark exactly the tokens of that field: the ones the field makes when
// tokenized on its own (`lead` is what the template puts before it: SentencePiece's dummy
// prefix stands for the squeezed indentation, GPT-2 keeps one space with the word).
void expect_whole_fields(const Tokenizer& tok, const std::string& lead) {
  const std::string ins = "Tell a story about a cat.", out = "Once upon a time there was a dog named Max.";
  Record r = instruction(ins, "", out, {whole("instruction", "instruction", ins), whole("output", "output", out)});
  TokenizedExample ex = tokenize_record(tok, r, TokenizeOptions{});
  std::vector<int32_t> expected(ex.ids.size(), 0);
  for (auto [field, id] : {std::pair{ins, 1}, std::pair{out, 2}}) {
    const std::vector<int32_t> piece = tok.encode(lead + field, false);
    const int64_t at = find_run(ex.ids, piece);
    ASSERT_GE(at, 0) << tok.kind() << ": '" << field << "' is not a run of the prompt's tokens";
    std::fill(expected.begin() + at, expected.begin() + at + int64_t(piece.size()), id);
  }
  EXPECT_EQ(modalities_of(tok, r, ex.ids), expected) << tok.kind();
}

TEST(TokenModality, WholeFieldsSentencePiece) { expect_whole_fields(*tok512(), ""); }
TEST(TokenModality, WholeFieldsGpt2) { expect_whole_fields(*gpt2(), " "); }
TEST(TokenModality, WholeFieldsLlama2) { expect_whole_fields(*llama2(), ""); }

// A token straddling a segment boundary goes with its last character.
TEST(TokenModality, StraddlingTokenFollowsItsLastCharacter) {
  for (auto load : {tok512, gpt2}) {
    auto tok = load();
    ASSERT_TRUE(tok);
    const std::string out = "Once upon a time";
    // "Once up" ends inside "upon": " upon"'s last character is outside, so only "Once" is marked.
    Record r = instruction("Go.", "", out, {Segment{"code", "output", 0, 7}});
    TokenizedExample ex = tokenize_record(*tok, r, TokenizeOptions{});
    std::vector<int32_t> m = modalities_of(*tok, r, ex.ids);
    const std::vector<int32_t> once = tok->encode(tok->kind() == "gpt2-bpe" ? " Once" : "Once", false);
    ASSERT_EQ(once.size(), 1u) << tok->kind();
    for (size_t k = 0; k < ex.ids.size(); ++k)
      EXPECT_EQ(m[k], ex.ids[k] == once[0] ? 3 : 0)
          << tok->kind() << " token " << k << " '" << tok->decode(std::span(&ex.ids[k], 1)) << "'";
    // [5, 9) = "upon" marks the token that ends in its 'n', " upon" (its space lies outside).
    r.segments = {Segment{"code", "output", 5, 9}};
    m = modalities_of(*tok, r, ex.ids);
    int64_t marked = 0;
    for (size_t k = 0; k < ex.ids.size(); ++k)
      if (m[k] == 3) {
        ++marked;
        EXPECT_NE(tok->decode(std::span(&ex.ids[k], 1)).find("upon"), std::string::npos) << tok->kind();
      }
    EXPECT_EQ(marked, 1) << tok->kind();
  }
}

// Characters split over byte tokens (tok512's byte fallback, GPT-2's byte-level BPE): every
// byte token of a character gets the character's modality, the neighbours' do not.
TEST(TokenModality, MultiByteCharactersKeepTheirBytesTogether) {
  for (auto load : {tok512, gpt2}) {
    auto tok = load();
    ASSERT_TRUE(tok);
    Record r;
    r.kind = RecordKind::Text;
    r.text = "日本語 🐈 cat";
    r.where = "data.jsonl: line 4";
    r.segments = {Segment{"code", "text", 1, 2}, Segment{"output", "text", 4, 5}};  // 本, 🐈
    std::vector<int32_t> ids = tok->encode(r.text, true);
    std::vector<int32_t> m = modalities_of(*tok, r, ids);
    // Re-decode the marked runs: each must give back exactly its character.
    for (int32_t id : {3, 2}) {
      std::vector<int32_t> run;
      for (size_t k = 0; k < ids.size(); ++k)
        if (m[k] == id) run.push_back(ids[k]);
      std::string text = tok->decode(run);
      while (!text.empty() && text.front() == ' ') text.erase(0, 1);
      EXPECT_EQ(text, id == 3 ? "本" : "🐈") << tok->kind();
    }
  }
}

TEST(TokenModality, TruncatedExamplesStayAligned) {
  auto tok = tok512();
  const std::string out = "Once upon a time there was a little girl who loved to play outside in the sun.";
  Record r = instruction("Tell a story.", "", out, {whole("output", "output", out)});
  TokenizeOptions opt;
  opt.cutoff_len = int64_t(tok->encode(record_user_prompt(r), true).size()) + 6;  // six output tokens
  TokenizedExample ex = tokenize_record(*tok, r, opt);
  ASSERT_TRUE(ex.truncated);
  std::vector<int32_t> m = modalities_of(*tok, r, ex.ids);
  ASSERT_EQ(m.size(), size_t(opt.cutoff_len));
  EXPECT_EQ(m.front(), 0);                          // BOS
  EXPECT_EQ(std::count(m.begin(), m.end(), 2), 6);  // the cut lands inside the output
  EXPECT_EQ(m.back(), 2);
}

TEST(TokenModality, NoSegmentsNoModalities) {
  auto tok = tok512();
  Record r = instruction("Go.", "", "Ok.", {});
  auto m = token_modalities(*tok, r, tok->encode(record_prompt(r), true), kNames);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_TRUE(m->empty());
}

// Every record of LLM-Adapters' math_data lines up on tok512 (squeezed whitespace, numbers,
// symbols): the output's tokens form one run that ends right before EOS.
TEST(TokenModality, RealDataLinesUp) {
  auto tok = tok512();
  auto records = load_dataset(test::shared_path("data/datasets/llm_adapters/math_data.json"));
  ASSERT_TRUE(records.is_ok()) << records.status().message();
  records->resize(200);
  std::vector<TokenizedExample> examples;
  for (Record& r : *records) {
    r.segments = {whole("instruction", "instruction", r.instruction), whole("output", "output", r.output)};
    examples.push_back(tokenize_record(*tok, r, TokenizeOptions{1024, true, true}));
  }
  Status s = assign_modalities(*tok, *records, examples, kNames);
  ASSERT_TRUE(s.is_ok()) << s.message();
  for (size_t i = 0; i < examples.size(); ++i) {
    const std::vector<int32_t>& m = examples[i].modality;
    ASSERT_EQ(m.size(), examples[i].ids.size());
    ASSERT_EQ(m.back(), 0) << i;  // EOS
    const size_t first = size_t(std::find(m.begin(), m.end(), 2) - m.begin());
    EXPECT_TRUE(std::all_of(m.begin() + first, m.end() - 1, [](int32_t v) { return v == 2; })) << i;
    EXPECT_GT(std::count(m.begin(), m.end(), 1), 0) << i;
  }
}

// The linear streaming method gives exactly the prefix method's ends on real prompts, with
// byte tokens, emoji and squeezed whitespace, on both tokenizers.
TEST(TokenEnds, IncrementalMatchesPrefixes) {
  auto records = load_dataset(test::shared_path("data/datasets/llm_adapters/math_data.json"));
  ASSERT_TRUE(records.is_ok()) << records.status().message();
  std::vector<std::string> texts = {"日本語 🐈 cat", "a  b\n\n   c", " leading", "trailing  ", "ﬁ ½ é", ""};
  for (size_t i = 0; i < 30; ++i) texts.push_back(record_prompt((*records)[i]));
  for (auto load : {tok512, gpt2, llama2}) {
    auto tok = load();
    ASSERT_TRUE(tok);
    for (const std::string& text : texts) {
      std::vector<int32_t> ids = tok->encode(text, true);
      if (tok->eos_id() >= 0) ids.push_back(tok->eos_id());
      auto fast = token_ends_incremental(*tok, ids);
      ASSERT_TRUE(fast.has_value()) << tok->kind() << ": " << text;
      const TokenEnds exact = token_ends_by_prefixes(*tok, ids);
      EXPECT_EQ(fast->text, exact.text);
      EXPECT_EQ(fast->stop, exact.stop) << tok->kind() << ": " << text;
      EXPECT_EQ(fast->touch, exact.touch) << tok->kind() << ": " << text;
    }
  }
}

// Where window decodes disagree with the whole, the prefix method takes over.
class OddLengthMark : public Tokenizer {  // decode appends "~" to odd-length output
 public:
  std::vector<int32_t> encode(std::string_view text, bool) const override {
    return std::vector<int32_t>(text.begin(), text.end());
  }
  std::string decode(std::span<const int32_t> ids) const override {
    std::string s(ids.begin(), ids.end());
    return s.size() % 2 ? s + "~" : s;
  }
  int32_t vocab_size() const override { return 256; }
  int32_t bos_id() const override { return -1; }
  int32_t eos_id() const override { return -1; }
  std::string kind() const override { return "test-odd"; }
};

TEST(TokenEnds, FallsBackToPrefixesWhenWindowsDisagree) {
  OddLengthMark tok;
  const std::vector<int32_t> ids = tok.encode("abcde", false);
  EXPECT_FALSE(token_ends_incremental(tok, ids).has_value());
  const TokenEnds e = token_ends(tok, ids);
  EXPECT_EQ(e.text, "abcde~");
  EXPECT_EQ(e.stop, (std::vector<size_t>{1, 2, 3, 4, 6}));
}

// A tokenizer whose decode does not give the text back (here: upper case) cannot place
// segments: the error names the record and says what differed.
class ShoutingBytes : public Tokenizer {
 public:
  std::vector<int32_t> encode(std::string_view text, bool) const override {
    std::vector<int32_t> ids;
    for (unsigned char c : text) ids.push_back(int32_t(c));
    return ids;
  }
  std::string decode(std::span<const int32_t> ids) const override {
    std::string s;
    for (int32_t id : ids) s += char(std::toupper(id));
    return s;
  }
  int32_t vocab_size() const override { return 256; }
  int32_t bos_id() const override { return -1; }
  int32_t eos_id() const override { return -1; }
  std::string kind() const override { return "test-shouting"; }
};

TEST(TokenModality, DecodeThatDiffersIsAnError) {
  ShoutingBytes tok;
  Record r;
  r.kind = RecordKind::Text;
  r.text = "ABC def";
  r.where = "data.jsonl: line 9";
  r.segments = {Segment{"code", "text", 0, 3}};
  auto m = token_modalities(tok, r, tok.encode(r.text, true), kNames);
  ASSERT_FALSE(m.is_ok());
  EXPECT_NE(m.status().message().find("data.jsonl: line 9: cannot place the segments on the tokens: decoding the "
                                      "tokens gives \"DEF\" where the text has \"def\" (byte 4 of the text)"),
            std::string::npos)
      << m.status().message();
  r.text = "ABC DEF";
  EXPECT_TRUE(token_modalities(tok, r, tok.encode(r.text, true), kNames).is_ok());
  r.segments[0].modality = "image";
  m = token_modalities(tok, r, tok.encode(r.text, true), kNames);
  ASSERT_FALSE(m.is_ok());
  EXPECT_NE(m.status().message().find("modality 'image' is not one of the adapter's modalities (text, instruction, "
                                      "output, code)"),
            std::string::npos)
      << m.status().message();
}

}  // namespace
}  // namespace peft
