// vocab.json + merges.txt (the slow GPT2Tokenizer's and RobertaTokenizer's files). GPT-2: ids
// equal llama.cpp's GPT-2 test vectors (made by Hugging Face's tokenizer). RoBERTa: a vocabulary
// laid out as fairseq's (<s> <pad> </s> <unk> first, <mask> last) over GPT-2's merges, so every
// plain id is GPT-2's + 4; specials and the pair template as RobertaTokenizer puts them. (No
// working RobertaTokenizer runs here: transformers 4.31's needs the Rust tokenizers' AddedToken,
// 4.57's ships a stub, so the RoBERTa rows are derived from GPT-2's vectors and its documented
// template.)
#include <gtest/gtest.h>

#include "cli/cli_runner.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_test_util.h"

namespace peft {
namespace {

using test::Json;
using test::TempDir;

// GPT-2's files under the Hugging Face names; `roberta`: fairseq's id layout and RoBERTa's class.
void write_folder(const TempDir& dir, bool roberta, const Json& config = Json::object()) {
  const Json encoder = Json::parse(test::read_file(test::gpt2_dir() + "/encoder.json"));
  Json vocab = Json::object();
  if (roberta) {
    std::vector<std::string> by_id(encoder.size());
    for (auto it = encoder.begin(); it != encoder.end(); ++it) by_id[it.value().get<size_t>()] = it.key();
    int id = 0;
    for (const char* s : {"<s>", "<pad>", "</s>", "<unk>"}) vocab[s] = id++;
    for (const std::string& t : by_id) vocab[t] = id++;
    vocab["<mask>"] = id;
  } else {
    vocab = encoder;
  }
  test::write_file(dir / "vocab.json", vocab.dump());
  test::write_file(dir / "merges.txt", test::read_file(test::gpt2_dir() + "/vocab.bpe"));
  Json c = config;
  if (!c.contains("tokenizer_class")) c["tokenizer_class"] = roberta ? "RobertaTokenizer" : "GPT2Tokenizer";
  test::write_file(dir / "tokenizer_config.json", c.dump());
}

std::unique_ptr<Tokenizer> load(const TempDir& dir) {
  auto tok = load_tokenizer(dir.path());
  EXPECT_TRUE(tok.is_ok()) << tok.status().message();
  return tok.is_ok() ? std::move(tok).value() : nullptr;
}

TEST(VocabMerges, Gpt2MatchesTheTestVectors) {
  TempDir dir;
  write_folder(dir, false);
  auto tok = load(dir);
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->kind(), "bpe-vocab-merges");
  int n = 0;
  for (const auto& v : test::read_llama_cpp_vectors(test::vectors_base("gpt-2"))) {
    EXPECT_EQ(tok->encode(v.text, true), v.ids) << v.text;  // GPT-2 adds nothing
    ++n;
  }
  EXPECT_GE(n, 20);
}

TEST(VocabMerges, RobertaIdsTemplateAndSpecials) {
  TempDir dir;
  write_folder(dir, true);
  auto tok = load(dir);
  ASSERT_NE(tok, nullptr);
  const int32_t s = 0, pad = 1, e = 2, mask = 50261;
  EXPECT_EQ(tok->token_id("<mask>"), mask);
  EXPECT_EQ(tok->bos_id(), s);
  EXPECT_EQ(tok->eos_id(), e);
  for (const auto& v : test::read_llama_cpp_vectors(test::vectors_base("gpt-2"))) {
    std::vector<int32_t> want = {s};
    for (int32_t id : v.ids) want.push_back(id + 4);
    want.push_back(e);
    EXPECT_EQ(tok->encode(v.text, true), want) << v.text;
  }
  // Hello = 15496, Ġworld = 995, Ġthere = 612 in GPT-2's vocabulary.
  const int32_t hello = 15496 + 4, world = 995 + 4, there = 612 + 4;
  // <mask> takes the space before it; </s> inside a text is the special token.
  EXPECT_EQ(tok->encode("Hello <mask> world", false), (std::vector<int32_t>{hello, mask, world}));
  EXPECT_EQ(tok->encode("Hello</s> world", false), (std::vector<int32_t>{hello, e, world}));
  const PairEncoding p = tok->encode_pair("Hello", " there", true);
  EXPECT_EQ(p.ids, (std::vector<int32_t>{s, hello, e, e, there, e}));
  EXPECT_EQ(p.type_ids, (std::vector<int32_t>(6, 0)));
  EXPECT_TRUE(tok->is_special(pad) && tok->is_special(mask));
  EXPECT_EQ(tok->decode(std::vector<int32_t>{s, hello, mask, world, e, pad}), "Hello world");

  // add_prefix_space: " Hello" = Ġ + Hello = 18435.
  TempDir spaced;
  write_folder(spaced, true, Json{{"add_prefix_space", true}});
  auto tok2 = load(spaced);
  ASSERT_NE(tok2, nullptr);
  EXPECT_EQ(tok2->encode("Hello", false), (std::vector<int32_t>{18435 + 4}));
}

TEST(VocabMerges, ClassFromTheModelConfigAndBadFiles) {
  TempDir dir;
  write_folder(dir, true, Json{{"tokenizer_class", nullptr}});
  test::write_file(dir / "tokenizer_config.json", "{}");
  test::write_file(dir / "config.json", Json{{"model_type", "roberta"}}.dump());
  auto tok = load(dir);
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->encode("Hello", true), (std::vector<int32_t>{0, 15496 + 4, 2}));

  TempDir other;
  write_folder(other, false, Json{{"tokenizer_class", "BartTokenizer"}});
  auto bad = load_tokenizer(other.path());
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("tokenizer_class 'BartTokenizer' is not supported"), std::string::npos)
      << bad.status().message();

  TempDir broken;
  write_folder(broken, true);
  test::write_file(broken / "merges.txt", "#version: 0.2\nĠ t h\n");
  auto b = load_tokenizer(broken.path());
  ASSERT_FALSE(b.is_ok());
  EXPECT_NE(b.status().message().find("merges.txt: line 2 is not two tokens"), std::string::npos)
      << b.status().message();
}

}  // namespace
}  // namespace peft
