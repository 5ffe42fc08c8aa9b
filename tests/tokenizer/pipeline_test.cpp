// tokenizer.json pipeline parts one by one: Split behaviours, Digits, Metaspace, ByteLevel,
// normalizers, decoders, added-token matching, and the errors for bad files.
#include <gtest/gtest.h>

#include "cli/cli_runner.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalize.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_json_steps.h"
#include "tokenizer/tokenizer_test_util.h"

namespace peft {
namespace {

using test::Json;
using test::TempDir;
using Pieces = std::vector<std::string>;
const std::string kMarker = "\xE2\x96\x81";

Pieces pre_tokenize(const Json& j, const std::string& text, bool at_start = true) {
  std::vector<PreTokenizerStep> steps;
  Status st = parse_pre_tokenizer(j, "t.json", steps);
  EXPECT_TRUE(st.is_ok()) << st.message();
  auto p = PreTokenizer::build(steps, "t.json");
  EXPECT_TRUE(p.is_ok()) << p.status().message();
  Pieces out;
  if (p.is_ok()) p->apply(text, at_start, out);
  return out;
}

Json split(const char* behavior, bool invert = false, const char* literal = "-") {
  return {{"type", "Split"}, {"pattern", {{"String", literal}}}, {"behavior", behavior}, {"invert", invert}};
}

// Hugging Face's documented examples for "the-final--countdown" split on "-".
TEST(PreTokenizer, SplitBehaviours) {
  const std::string text = "the-final--countdown";
  EXPECT_EQ(pre_tokenize(split("Removed"), text), (Pieces{"the", "final", "countdown"}));
  EXPECT_EQ(pre_tokenize(split("Isolated"), text), (Pieces{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(pre_tokenize(split("MergedWithPrevious"), text), (Pieces{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(pre_tokenize(split("MergedWithNext"), text), (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(pre_tokenize(split("Contiguous"), text), (Pieces{"the", "-", "final", "--", "countdown"}));
  // invert: the pattern says what to keep.
  Json words = {{"type", "Split"}, {"pattern", {{"Regex", "\\w+"}}}, {"behavior", "Removed"}, {"invert", true}};
  EXPECT_EQ(pre_tokenize(words, "Hey friend!  ok"), (Pieces{"Hey", "friend", "ok"}));
}

// BLOOM's pattern nests a class inside a class, which Oniguruma (Hugging Face) allows.
TEST(PreTokenizer, OnigurumaNestedClass) {
  Json bloom = {{"type", "Split"},
                {"pattern", {{"Regex", " ?[^(\\s|[.,!?\u2026\u3002\uff0c\u3001\u0964\u06d4\u060c])]+"}}},
                {"behavior", "Isolated"},
                {"invert", false}};
  EXPECT_EQ(pre_tokenize(bloom, "Hello, world! (ok) a|b\u3002"),
            (Pieces{"Hello", ",", " world", "! (", "ok", ")", " a", "|", "b", "\u3002"}));
  std::vector<PreTokenizerStep> steps;
  ASSERT_TRUE(parse_pre_tokenizer({{"type", "Split"}, {"pattern", {{"Regex", "[a[^b]]"}}}, {"behavior", "Isolated"}},
                                  "t.json", steps)
                  .is_ok());
  auto p = PreTokenizer::build(steps, "t.json");
  ASSERT_FALSE(p.is_ok());
  EXPECT_EQ(p.status().message(),
            "t.json: regex '[a[^b]]' nests a negated character class, which PCRE2 cannot express");
}

TEST(PreTokenizer, DigitsWhitespacePunctuation) {
  EXPECT_EQ(pre_tokenize({{"type", "Digits"}, {"individual_digits", false}}, "Call 123 now"),
            (Pieces{"Call ", "123", " now"}));
  EXPECT_EQ(pre_tokenize({{"type", "Digits"}, {"individual_digits", true}}, "a123"), (Pieces{"a", "1", "2", "3"}));
  EXPECT_EQ(pre_tokenize({{"type", "Whitespace"}}, "Hey friend!! ok?"), (Pieces{"Hey", "friend", "!!", "ok", "?"}));
  EXPECT_EQ(pre_tokenize({{"type", "WhitespaceSplit"}}, " Hey  friend!\n"), (Pieces{"Hey", "friend!"}));
  EXPECT_EQ(pre_tokenize({{"type", "Punctuation"}, {"behavior", "Isolated"}}, "Hey, you!"),
            (Pieces{"Hey", ",", " you", "!"}));
}

TEST(PreTokenizer, ByteLevelAndSequence) {
  Json bl = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}};
  EXPECT_EQ(pre_tokenize(bl, "Hello world's"), (Pieces{"\xC4\xA0Hello", "\xC4\xA0world", "'s"}));
  bl["add_prefix_space"] = false;
  EXPECT_EQ(pre_tokenize(bl, "a  b\n"), (Pieces{"a", "\xC4\xA0",
                                                "\xC4\xA0"
                                                "b",
                                                "\xC4\x8A"}));
  Json seq = {{"type", "Sequence"},
              {"pretokenizers",
               {{{"type", "Digits"}, {"individual_digits", true}},
                {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}}}};
  EXPECT_EQ(pre_tokenize(seq, "x 42"), (Pieces{"x", "\xC4\xA0", "4", "2"}));
}

// Hugging Face's own Metaspace tests.
TEST(PreTokenizer, Metaspace) {
  Json ms = {{"type", "Metaspace"}, {"replacement", kMarker}, {"prepend_scheme", "always"}, {"split", true}};
  EXPECT_EQ(pre_tokenize(ms, "Hey   friend!"), (Pieces{kMarker + "Hey", kMarker, kMarker, kMarker + "friend!"}));
  ms["prepend_scheme"] = "first";
  ms["split"] = false;
  EXPECT_EQ(pre_tokenize(ms, "how are", /*at_start=*/false), (Pieces{"how" + kMarker + "are"}));
  EXPECT_EQ(pre_tokenize(ms, " Hey ", true), (Pieces{kMarker + "Hey" + kMarker}));
  // The older add_prefix_space spelling.
  Json old = {{"type", "Metaspace"}, {"replacement", kMarker}, {"add_prefix_space", false}};
  EXPECT_EQ(pre_tokenize(old, "a b"), (Pieces{"a", kMarker + "b"}));
}

std::string normalize(const Json& j, const std::string& text) {
  std::vector<NormalizerStep> steps;
  Status st = parse_normalizer(j, "t.json", steps);
  EXPECT_TRUE(st.is_ok()) << st.message();
  auto n = Normalizer::build(steps, "t.json");
  EXPECT_TRUE(n.is_ok()) << n.status().message();
  return n.is_ok() ? n->apply(text) : "";
}

TEST(Normalizer, Steps) {
  EXPECT_EQ(normalize({{"type", "NFC"}}, "e\xCC\x81"), "\xC3\xA9");
  EXPECT_EQ(normalize({{"type", "NFD"}}, "\xC3\xA9"), "e\xCC\x81");
  EXPECT_EQ(normalize({{"type", "NFKC"}}, "\xEF\xAC\x81"), "fi");  // the "ﬁ" ligature
  EXPECT_EQ(normalize({{"type", "Lowercase"}}, "HeLLo \xC3\x84\xCE\xA3"), "hello \xC3\xA4\xCF\x82");  // final sigma
  EXPECT_EQ(normalize({{"type", "Strip"}, {"strip_left", true}, {"strip_right", false}}, " \t x \n"), "x \n");
  EXPECT_EQ(normalize({{"type", "Replace"}, {"pattern", {{"Regex", " {2,}"}}}, {"content", " "}}, "a   b  c"), "a b c");
  Json llama = {{"type", "Sequence"},
                {"normalizers",
                 {{{"type", "Prepend"}, {"prepend", kMarker}},
                  {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kMarker}}}}};
  EXPECT_EQ(normalize(llama, "a b"), kMarker + "a" + kMarker + "b");
  EXPECT_EQ(normalize(llama, ""), "");  // Prepend leaves "" alone
}

std::string decode(const Json& j, Pieces tokens) {
  std::vector<DecoderStep> steps;
  Status st = parse_decoder(j, "t.json", steps);
  EXPECT_TRUE(st.is_ok()) << st.message();
  auto d = Decoder::build(steps, !j.is_null(), "t.json");
  EXPECT_TRUE(d.is_ok()) << d.status().message();
  return d.is_ok() ? d->decode(std::move(tokens)) : "";
}

TEST(Decoder, Steps) {
  Json llama = {{"type", "Sequence"},
                {"decoders",
                 {{{"type", "Replace"}, {"pattern", {{"String", kMarker}}}, {"content", " "}},
                  {{"type", "ByteFallback"}},
                  {{"type", "Fuse"}},
                  {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
  EXPECT_EQ(decode(llama, {kMarker + "Hello", "<0xC3>", "<0xA9>", kMarker + kMarker + "x"}), "Hello\xC3\xA9  x");
  EXPECT_EQ(decode({{"type", "Metaspace"}, {"replacement", kMarker}, {"prepend_scheme", "always"}},
                   {kMarker + "Hey", kMarker + "friend!"}),
            "Hey friend!");
  EXPECT_EQ(decode({{"type", "ByteLevel"}}, {"\xC4\xA0Hello", "<|im_start|>", "\xC4\x8A"}), " Hello<|im_start|>\n");
  EXPECT_EQ(decode(nullptr, {"a", "b"}), "a b");  // no decoder: joined with spaces
}

// Added tokens: lstrip/rstrip swallow whitespace, single_word needs word boundaries.
TEST(AddedTokens, StripAndSingleWord) {
  TempDir dir;
  Json j = test::gpt2_tokenizer_json(false);
  auto add = [&](int id, const char* content, bool special, bool lstrip, bool rstrip, bool single_word) {
    j["added_tokens"].push_back({{"id", id},
                                 {"content", content},
                                 {"special", special},
                                 {"lstrip", lstrip},
                                 {"rstrip", rstrip},
                                 {"single_word", single_word},
                                 {"normalized", false}});
  };
  add(50257, "<mask>", true, true, false, false);
  add(50258, "<sep>", true, false, true, false);
  add(50259, "cat", false, false, false, true);
  add(50260, "<mask><mask>", true, false, false, false);
  test::write_file(dir / "tokenizer.json", j.dump());
  auto loaded = load_tokenizer(dir / "tokenizer.json");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  const Tokenizer& tok = **loaded;
  EXPECT_EQ(tok.vocab_size(), 50261);
  auto cat = [](std::vector<std::vector<int32_t>> parts) {
    std::vector<int32_t> all;
    for (auto& p : parts) all.insert(all.end(), p.begin(), p.end());
    return all;
  };
  EXPECT_EQ(tok.encode("a  <mask> b", false), cat({tok.encode("a", false), {50257}, tok.encode(" b", false)}));
  EXPECT_EQ(tok.encode("a <sep>  b", false), cat({tok.encode("a ", false), {50258}, tok.encode("b", false)}));
  EXPECT_EQ(tok.encode("cat concat cat", false), cat({{50259}, tok.encode(" concat ", false), {50259}}));
  EXPECT_EQ(tok.encode("<mask><mask>", false), (std::vector<int32_t>{50260}));  // longest match
  // Special added tokens vanish on decode; the others are text.
  EXPECT_EQ(tok.decode(std::vector<int32_t>{50259, 50257, 50258, 50259}), "catcat");
  EXPECT_EQ(tok.token_id("<sep>"), 50258);
}

// Bad files: one message naming the file and what is wrong.
std::string load_error(const TempDir& dir, const std::string& text) {
  test::write_file(dir / "tokenizer.json", text);
  auto tok = load_tokenizer(dir / "tokenizer.json");
  EXPECT_FALSE(tok.is_ok());
  return tok.is_ok() ? "" : tok.status().message();
}

TEST(TokenizerJsonErrors, ClearMessages) {
  TempDir dir;
  const std::string path = dir / "tokenizer.json";
  Json small = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}}}, {"merges", {"a b"}}}},
                {"pre_tokenizer", nullptr},
                {"decoder", nullptr}};
  test::write_file(path, small.dump());
  auto ok = load_tokenizer(path);
  ASSERT_TRUE(ok.is_ok()) << ok.status().message();
  EXPECT_EQ((*ok)->encode("ab", false), (std::vector<int32_t>{2}));
  Json j = small;
  j["model"]["type"] = "Unigram";
  EXPECT_EQ(load_error(dir, j.dump()), path + ": unsupported model type 'Unigram' (supported: BPE, WordPiece)");
  j = small;
  j["pre_tokenizer"] = {{"type", "Foo"}};
  EXPECT_EQ(load_error(dir, j.dump()),
            path +
                ": unsupported pre_tokenizer type 'Foo' (supported: ByteLevel, Split, Digits, Metaspace, Whitespace, "
                "WhitespaceSplit, Punctuation, Sequence)");
  j = small;
  j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "Precompiled"}}}}};
  EXPECT_EQ(load_error(dir, j.dump()).rfind(path + ": unsupported normalizer type 'Precompiled' (supported: NFC,", 0),
            0u);
  j = small;
  j["decoder"] = {{"type", "WordPiece"}};
  EXPECT_EQ(load_error(dir, j.dump()).rfind(path + ": unsupported decoder type 'WordPiece' (supported: ByteLevel,", 0),
            0u);
  j = small;
  j["post_processor"] = {{"type", "Magic"}};
  EXPECT_EQ(load_error(dir, j.dump()).rfind(path + ": unsupported post_processor type 'Magic'", 0), 0u);
  EXPECT_EQ(load_error(dir, "{\"model\": {").rfind(path + ": invalid JSON at byte", 0), 0u);
  j = small;
  j["model"]["merges"] = {"a c"};
  EXPECT_EQ(load_error(dir, j.dump()), path + ": merge 0 ('a c') refers to 'c', which is not in the vocabulary");
  j = small;
  j["model"]["merges"] = Json::array({Json::array({"b", "a"})});
  EXPECT_EQ(load_error(dir, j.dump()), path + ": merge 0 ('b a') makes 'ba', which is not in the vocabulary");
  j = small;
  j["model"]["merges"] = {"ab"};
  EXPECT_EQ(load_error(dir, j.dump()), path + ": model: merge 0 ('ab') is not two tokens separated by a space");
  j = small;
  j["model"]["unk_token"] = "<unk>";
  EXPECT_EQ(load_error(dir, j.dump()), path + ": unk_token '<unk>' is not in the vocabulary");
  j = small;
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  EXPECT_EQ(load_error(dir, j.dump()).rfind(path + ": invalid regex '(unclosed' at offset", 0), 0u);
  j = small;
  j["model"]["vocab"]["b"] = "one";
  EXPECT_EQ(load_error(dir, j.dump()).rfind(path + ": model.vocab: token 'b' has id \"one\"", 0), 0u);
  j = small;
  j["added_tokens"] = {{{"id", 5}}};
  EXPECT_EQ(load_error(dir, j.dump()), path + ": added_tokens[0]: field 'content' missing");
}

TEST(LoadTokenizer, EmptyFolderListsWhatItLookedFor) {
  TempDir dir;
  auto tok = load_tokenizer(dir.path());
  ASSERT_FALSE(tok.is_ok());
  EXPECT_EQ(tok.status().message(), dir.path() +
                                        ": no tokenizer found (looked for tokenizer.json, tokenizer.model, spm.model, "
                                        "vocab.json + merges.txt, vocab.txt, encoder.json + vocab.bpe)");
}

}  // namespace
}  // namespace peft
