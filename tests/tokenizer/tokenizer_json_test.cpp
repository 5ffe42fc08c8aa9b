// tokenizer.json files: LLaMA-style (byte fallback) and Qwen2-style (Split + ByteLevel), made
// in the test from the shared vocabularies; tokenizer_config.json; GGUF-style gpt2 vocabularies.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <filesystem>

#include <fstream>
#include <sstream>

#include "cli/cli_runner.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_json_steps.h"
#include "tokenizer/tokenizer_test_util.h"
#include "tokenizer/vocab_spec.h"

namespace peft {
namespace {

using test::Json;
using test::TempDir;

std::unique_ptr<Tokenizer> load_json(const TempDir& dir, const Json& j, const std::string& name = "tokenizer.json") {
  test::write_file(dir / name, j.dump());
  auto tok = load_tokenizer(dir / name);
  EXPECT_TRUE(tok.is_ok()) << tok.status().message();
  return tok.is_ok() ? std::move(tok).value() : nullptr;
}

// `metaspace`: transformers' legacy=False form, whose Metaspace prepends "▁" only when the
// text does not start with one already, so a text starting with a space encodes as the same
// text without that space does under sentencepiece (and loses it on decode).
void expect_llama_vectors(const Tokenizer& tok, const std::string& label, bool metaspace = false) {
  auto vectors = test::read_llama_cpp_vectors(test::vectors_base("llama-spm"));
  ASSERT_EQ(vectors.size(), 46u);
  std::unique_ptr<Tokenizer> spm;
  if (metaspace) {
    auto loaded = load_tokenizer(test::llama2_model());
    ASSERT_TRUE(loaded.is_ok());
    spm = std::move(loaded).value();
  }
  int matched = 0, leading_space = 0;
  for (size_t i = 0; i < vectors.size(); ++i) {
    const std::string& text = vectors[i].text;
    auto got = tok.encode(text, false);
    auto with_bos = tok.encode(text, true);
    EXPECT_EQ(with_bos.size(), got.size() + 1);
    EXPECT_EQ(with_bos.front(), 1);
    if (metaspace && text.starts_with(' ')) {
      ++leading_space;
      // (sentencepiece encodes "" as nothing; Hugging Face keeps the lone "▁", 29871.)
      const auto want = text == " " ? std::vector<int32_t>{29871} : spm->encode(text.substr(1), false);
      EXPECT_EQ(got, want) << label << " vector " << i << ": \"" << text << "\"";
      EXPECT_EQ(tok.decode(with_bos), text.substr(1)) << label << " vector " << i;
      continue;
    }
    EXPECT_EQ(got, vectors[i].ids) << label << " vector " << i << ": \"" << text << "\"";
    matched += got == vectors[i].ids;
    EXPECT_EQ(tok.decode(with_bos), text) << label << " vector " << i;
  }
  std::printf(
      "llama.cpp Llama-2 vectors (%s): %d / %zu match%s\n", label.c_str(), matched, vectors.size() - leading_space,
      leading_space
          ? fmt::format(" ({} starting with a space checked against Hugging Face's rule)", leading_space).c_str()
          : "");
}

// One file for both LLaMA forms (building the merges takes a moment).
class LlamaTokenizerJson : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { vocab_ = new VocabSpec(test::vocab_from_sentencepiece(test::llama2_model())); }
  static void TearDownTestSuite() { delete vocab_; }
  static VocabSpec* vocab_;
};
VocabSpec* LlamaTokenizerJson::vocab_ = nullptr;

TEST_F(LlamaTokenizerJson, NormalizerFormMatchesVectors) {
  TempDir dir;
  auto tok = load_json(dir, test::llama_tokenizer_json(*vocab_, false));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->kind(), "tokenizer.json");
  EXPECT_EQ(tok->vocab_size(), 32000);
  EXPECT_EQ(tok->bos_id(), 1);  // from the TemplateProcessing
  EXPECT_EQ(tok->eos_id(), 2);  // by name: "</s>"
  EXPECT_TRUE(tok->add_bos_default());
  expect_llama_vectors(*tok, "tokenizer.json, Prepend+Replace normalizer");
  // Hugging Face splits special tokens out of the text; the Prepend normalizer then runs
  // on each stretch, so "▁" comes back after "<s>".
  EXPECT_EQ(tok->encode("<s>Hello", false), (std::vector<int32_t>{1, 15043}));
  EXPECT_EQ(tok->decode(std::vector<int32_t>{1, 15043, 2}), "Hello");
  EXPECT_TRUE(tok->is_special(1));
  EXPECT_EQ(tok->token_text(13), "<0x0A>");
}

TEST_F(LlamaTokenizerJson, MetaspaceFormMatchesVectors) {
  TempDir dir;
  auto tok = load_json(dir, test::llama_tokenizer_json(*vocab_, true));
  ASSERT_TRUE(tok);
  expect_llama_vectors(*tok, "tokenizer.json, Metaspace pre-tokenizer", /*metaspace=*/true);
  // prepend_scheme "first": no "▁" after a special token (transformers' legacy=False).
  EXPECT_EQ(tok->encode("<s>Hello", false), (std::vector<int32_t>{1, 10994}));
}

TEST_F(LlamaTokenizerJson, TemplateAndTokenizerConfig) {
  TempDir dir;
  Json j = test::llama_tokenizer_json(*vocab_, false);
  j["post_processor"]["single"].push_back({{"SpecialToken", {{"id", "</s>"}, {"type_id", 0}}}});
  j["post_processor"]["special_tokens"]["</s>"] = {{"id", "</s>"}, {"ids", {2}}, {"tokens", {"</s>"}}};
  auto tok = load_json(dir, j);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode("Hi", true), (std::vector<int32_t>{1, 6324, 2}));
  EXPECT_EQ(tok->encode("Hi", false), (std::vector<int32_t>{6324}));
  // transformers' LlamaTokenizerFast rebuilds the template from add_bos/add_eos_token.
  test::write_file(dir / "tokenizer_config.json",
                   R"({"tokenizer_class": "LlamaTokenizer", "add_bos_token": false, "add_eos_token": true,
                       "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>"})");
  tok = load_json(dir, j);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode("Hi", true), (std::vector<int32_t>{6324, 2}));
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_FALSE(tok->add_bos_default());
  test::write_file(dir / "tokenizer_config.json", R"({"eos_token": "<nope>"})");
  auto bad = load_tokenizer(dir / "tokenizer.json");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message(),
            (dir / "tokenizer_config.json") + ": eos_token '<nope>' is not a token of the tokenizer");
}

TEST(Qwen2StyleTokenizerJson, PreTokenizerPieces) {
  std::vector<PreTokenizerStep> steps;
  ASSERT_TRUE(parse_pre_tokenizer(test::qwen2_style_tokenizer_json()["pre_tokenizer"], "q.json", steps).is_ok());
  auto pre = PreTokenizer::build(steps, "q.json");
  ASSERT_TRUE(pre.is_ok()) << pre.status().message();
  std::vector<std::string> pieces;
  pre->apply("x(world IT'S 2024\n\n", true, pieces);
  // GPT-2's regex would give "x", "(", "world", " IT", "'", "S", " 2024", "\n\n".
  EXPECT_EQ(pieces, (std::vector<std::string>{"x", "(world", "\xC4\xA0IT", "'S", "\xC4\xA0", "2", "0", "2", "4",
                                              "\xC4\x8A\xC4\x8A"}));
}

TEST(Qwen2StyleTokenizerJson, HandCheckedExpectations) {
  TempDir dir;
  auto tok = load_json(dir, test::qwen2_style_tokenizer_json());
  ASSERT_TRUE(tok);
  // \p{N} alone: digits one by one ('0' is id 15 in GPT-2's vocabulary).
  EXPECT_EQ(tok->encode("12345", false), (std::vector<int32_t>{16, 17, 18, 19, 20}));
  // \s*[\r\n]+ keeps a run of newlines together: "ĊĊ" is 628.
  EXPECT_EQ(tok->encode("a\n\nb", false), (std::vector<int32_t>{64, 628, 65}));
  EXPECT_EQ(tok->encode("Hello world", false), (std::vector<int32_t>{15496, 995}));
  // [^\r\n\p{L}\p{N}]?\p{L}+ glues one leading space or punctuation mark to a word.
  EXPECT_EQ(tok->encode(" (world", false), (std::vector<int32_t>{357, 6894}));  // " (", "world"
  // (?i:'s|...) matches contractions in any case: "IT'S" is "IT" + "'S".
  auto it = tok->encode("IT", false), s = tok->encode("'S", false);
  it.insert(it.end(), s.begin(), s.end());
  EXPECT_EQ(tok->encode("IT'S", false), it);
  // NFC: e + combining acute encodes as é.
  EXPECT_EQ(tok->encode("caf"
                        "e\xCC\x81",
                        false),
            tok->encode("caf\xC3\xA9", false));
  for (std::string text : {"line one\r\n\r\nline two", "x = 12 + 345;\n\n", "  leading\tand trailing  "}) {
    EXPECT_EQ(tok->decode(tok->encode(text, false)), text);
  }
}

// The arrays a GGUF file carries for GPT-2 (tokenizer.ggml.model "gpt2").
VocabSpec gpt2_vocab_spec(const std::string& pre) {
  VocabSpec v;
  v.model = "gpt2";
  Json encoder = Json::parse(test::read_file(test::gpt2_dir() + "/encoder.json"));
  v.tokens.resize(encoder.size());
  for (auto it = encoder.begin(); it != encoder.end(); ++it) v.tokens[it.value().get<size_t>()] = it.key();
  v.token_types.assign(v.tokens.size(), int32_t(TokenType::Normal));
  v.token_types[50256] = int32_t(TokenType::Control);
  std::istringstream lines(test::read_file(test::gpt2_dir() + "/vocab.bpe"));
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && !line.starts_with("#version")) v.merges.push_back(line);
  v.bos = v.eos = 50256;
  v.pre = pre;
  return v;
}

TEST(VocabGpt2, LlamaCppVectorsAndPreTokenizers) {
  auto tok = tokenizer_from_vocab(gpt2_vocab_spec("gpt-2"), "gpt2.gguf");
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  EXPECT_EQ((*tok)->kind(), "gpt2-bpe");
  EXPECT_FALSE((*tok)->add_bos_default());
  auto vectors = test::read_llama_cpp_vectors(test::vectors_base("gpt-2"));
  int matched = 0;
  for (const auto& v : vectors) matched += (*tok)->encode(v.text, true) == v.ids;
  EXPECT_EQ(matched, int(vectors.size()));
  EXPECT_EQ((*tok)->encode("<|endoftext|>", false), (std::vector<int32_t>{50256}));

  auto qwen2 = tokenizer_from_vocab(gpt2_vocab_spec("qwen2"), "gpt2.gguf");
  ASSERT_TRUE(qwen2.is_ok()) << qwen2.status().message();
  EXPECT_EQ((*qwen2)->encode("12345", false), (std::vector<int32_t>{16, 17, 18, 19, 20}));
  auto llama3 = tokenizer_from_vocab(gpt2_vocab_spec("llama-bpe"), "gpt2.gguf");
  ASSERT_TRUE(llama3.is_ok()) << llama3.status().message();
  EXPECT_EQ((*llama3)->encode("12345", false),
            (std::vector<int32_t>{(*llama3)->token_id("123"), (*llama3)->token_id("45")}));

  auto bad = tokenizer_from_vocab(gpt2_vocab_spec("martian"), "gpt2.gguf");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message().rfind(
                "gpt2.gguf: unsupported pre-tokenizer 'martian' for a gpt2 vocabulary (supported: ", 0),
            0u);
}

TEST(LoadTokenizer, FolderPrefersTokenizerJson) {
  TempDir dir;
  test::write_file(dir / "tokenizer.json", test::gpt2_tokenizer_json(false).dump());
  std::filesystem::copy_file(test::llama2_model(), dir / "tokenizer.model");
  auto tok = load_tokenizer(dir.path());
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  EXPECT_EQ((*tok)->kind(), "tokenizer.json");
  std::filesystem::remove(dir / "tokenizer.json");
  tok = load_tokenizer(dir.path());
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  EXPECT_EQ((*tok)->kind(), "sentencepiece");
}

}  // namespace
}  // namespace peft
