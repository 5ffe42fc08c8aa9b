// BERT's WordPiece tokenizer against transformers 4.31's BertTokenizer: the cases of
// tests/fixtures/wordpiece (tests/reference/make_wordpiece_cases.py) through load_tokenizer on a
// model folder (vocab.txt + tokenizer_config.json) and through the same vocabulary as
// tokenizer.json; the transformers files beside vocab.txt; bad files; pair templates.
#include <gtest/gtest.h>

#include <map>

#include "cli/cli_runner.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_test_util.h"

namespace peft {
namespace {

using test::Json;
using test::TempDir;

std::string fixture(const std::string& name) { return test::fixture_dir("local:wordpiece") + "/" + name; }

std::vector<Json> read_cases() {
  std::vector<Json> rows;
  const std::string text = test::read_file(fixture("cases.jsonl"));
  for (size_t pos = 0, end; pos < text.size(); pos = end + 1) {
    end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos) rows.push_back(Json::parse(text.substr(pos, end - pos)));
  }
  return rows;
}

// `files`: name -> JSON written beside a copy of the fixture's vocab.txt.
std::unique_ptr<Tokenizer> load_folder(const TempDir& dir, const std::map<std::string, Json>& files) {
  test::write_file(dir / "vocab.txt", test::read_file(fixture("vocab.txt")));
  for (const auto& [name, j] : files) test::write_file(dir / name, j.dump());
  auto tok = load_tokenizer(dir.path());
  EXPECT_TRUE(tok.is_ok()) << tok.status().message();
  return tok.is_ok() ? std::move(tok).value() : nullptr;
}

std::vector<int32_t> ids_of(const Json& j) { return j.get<std::vector<int32_t>>(); }

// One case: encode with and without special tokens (encode_pair for pairs), the token
// types, decode. Returns whether all of it matched.
bool check_case(const Tokenizer& tok, const Json& row, const std::string& label) {
  const std::string text = row["text"];
  const std::string where = label + " " + row["config"].get<std::string>() + " " + row.dump().substr(0, 160);
  std::vector<int32_t> ids, plain, types;
  if (row.contains("text_pair")) {
    const std::string pair = row["text_pair"];
    PairEncoding enc = tok.encode_pair(text, pair, true);
    ids = enc.ids;
    types = enc.type_ids;
    plain = tok.encode_pair(text, pair, false).ids;
    // The texts' ids, in order, are what encode_pair gives without special tokens.
    EXPECT_EQ(enc.sequence_ids.size(), ids.size()) << where;
    std::vector<int32_t> texts;
    for (size_t i = 0; i < ids.size() && i < enc.sequence_ids.size(); ++i)
      if (enc.sequence_ids[i] >= 0) texts.push_back(ids[i]);
    EXPECT_EQ(texts, plain) << where;
  } else {
    ids = tok.encode(text, true);
    plain = tok.encode(text, false);
    types.assign(ids.size(), 0);
  }
  const std::string decoded = tok.decode(ids_of(row["ids"]));
  EXPECT_EQ(ids, ids_of(row["ids"])) << where;
  EXPECT_EQ(plain, ids_of(row["ids_plain"])) << where;
  EXPECT_EQ(types, ids_of(row["token_type_ids"])) << where;
  EXPECT_EQ(decoded, row["decoded"].get<std::string>()) << where;
  return ids == ids_of(row["ids"]) && plain == ids_of(row["ids_plain"]) && types == ids_of(row["token_type_ids"]) &&
         decoded == row["decoded"].get<std::string>();
}

TEST(WordPiece, MatchesBertTokenizer) {
  const Json configs = Json::parse(test::read_file(fixture("configs.json")));
  const std::vector<Json> rows = read_cases();
  ASSERT_GE(rows.size(), 200u);
  std::map<std::string, std::unique_ptr<Tokenizer>> tokenizers;
  std::vector<std::unique_ptr<TempDir>> dirs;
  int matched = 0;
  for (const Json& row : rows) {
    const std::string name = row["config"];
    if (!tokenizers.count(name)) {
      ASSERT_TRUE(configs.contains(name)) << name;
      dirs.push_back(std::make_unique<TempDir>());
      tokenizers[name] = load_folder(*dirs.back(), {{"tokenizer_config.json", configs[name]}});
      ASSERT_NE(tokenizers[name], nullptr) << name;
      EXPECT_EQ(tokenizers[name]->kind(), "bert-wordpiece");
    }
    matched += check_case(*tokenizers[name], row, "vocab.txt");
  }
  EXPECT_EQ(matched, int(rows.size()));
  std::printf("BertTokenizer (transformers 4.31) cases, vocab.txt: %d / %zu match (%zu configurations)\n", matched,
              rows.size(), tokenizers.size());
}

// The Rust pipeline has no NFC step, so the cases whose tokens depend on it are left out.
TEST(WordPiece, TokenizerJsonMatchesBertTokenizer) {
  const std::vector<Json> rows = read_cases();
  int matched = 0, checked = 0;
  for (const std::string name : {"uncased", "cased"}) {
    TempDir dir;
    test::write_file(dir / "tokenizer.json", test::read_file(fixture("tokenizer_" + name + ".json")));
    auto loaded = load_tokenizer(dir.path());
    ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
    const Tokenizer& tok = **loaded;
    EXPECT_EQ(tok.kind(), "tokenizer.json");
    for (const Json& row : rows) {
      if (row["config"] != name || row["fast_differs"].get<bool>()) continue;
      ++checked;
      matched += check_case(tok, row, "tokenizer.json");
    }
  }
  EXPECT_GE(checked, 120);
  EXPECT_EQ(matched, checked);
  std::printf("BertTokenizer cases, WordPiece tokenizer.json: %d / %d match\n", matched, checked);
}

TEST(WordPiece, LoadsFromModelFolder) {
  TempDir dir;
  auto tok = load_folder(dir, {{"tokenizer_config.json", {{"do_lower_case", true}, {"model_max_length", 512}}},
                               {"config.json", {{"model_type", "bert"}, {"vocab_size", 551}}}});
  ASSERT_NE(tok, nullptr);
  const int32_t cls = tok->token_id("[CLS]"), sep = tok->token_id("[SEP]"), unk = tok->token_id("[UNK]");
  EXPECT_EQ(tok->vocab_size(), 551);
  EXPECT_EQ(tok->bos_id(), cls);
  EXPECT_EQ(tok->eos_id(), sep);
  EXPECT_TRUE(tok->add_bos_default());
  for (const char* s : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) EXPECT_TRUE(tok->is_special(tok->token_id(s)));
  EXPECT_FALSE(tok->is_special(tok->token_id("hello")));
  EXPECT_EQ(tok->token_text(cls), "[CLS]");
  const std::vector<int32_t> hello = {cls, tok->token_id("hello"), tok->token_id("world"), sep};
  EXPECT_EQ(tok->encode("Hello WORLD", true), hello);
  EXPECT_EQ(tok->decode(std::vector<int32_t>{cls, unk, 9999, -1, tok->token_id("un"), tok->token_id("##aff"), sep}),
            "unaff");

  // The file itself, and a folder without tokenizer_config.json (BertTokenizer's defaults:
  // lowercase, strip accents).
  auto file = load_tokenizer(dir / "vocab.txt");
  ASSERT_TRUE(file.is_ok()) << file.status().message();
  EXPECT_EQ((*file)->encode("Hello WORLD", true), hello);
  TempDir bare;
  auto defaults = load_folder(bare, {});
  ASSERT_NE(defaults, nullptr);
  EXPECT_EQ(defaults->encode("Héllo WORLD", true), hello);

  // tokenizer.json wins over vocab.txt, as in transformers.
  test::write_file(dir / "tokenizer.json", test::read_file(fixture("tokenizer_cased.json")));
  auto fast = load_tokenizer(dir.path());
  ASSERT_TRUE(fast.is_ok()) << fast.status().message();
  EXPECT_EQ((*fast)->kind(), "tokenizer.json");
}

TEST(WordPiece, TransformersFilesBesideVocab) {
  TempDir plain_dir;
  auto plain = load_folder(plain_dir, {});
  ASSERT_NE(plain, nullptr);
  const std::string text = "[CLS] Hello [MASK] world [MASK2]";

  // Special tokens saved as AddedToken objects read as their content.
  Json added_token = {{"__type", "AddedToken"}, {"content", "[MASK]"}, {"lstrip", true},
                      {"normalized", false},    {"rstrip", false},     {"single_word", false}};
  TempDir objects_dir;
  auto objects = load_folder(objects_dir, {{"tokenizer_config.json", {{"mask_token", added_token}}}});
  ASSERT_NE(objects, nullptr);
  EXPECT_EQ(objects->encode(text, true), plain->encode(text, true));

  // special_tokens_map.json overrides tokenizer_config.json: [MASK2] becomes the mask token,
  // matched whole and skipped by decode.
  TempDir map_dir;
  auto mapped = load_folder(map_dir, {{"tokenizer_config.json", {{"mask_token", "[MASK]"}}},
                                      {"special_tokens_map.json", {{"mask_token", {{"content", "[MASK2]"}}}}}});
  ASSERT_NE(mapped, nullptr);
  const int32_t mask2 = mapped->token_id("[MASK2]");
  ASSERT_GE(mask2, 0);
  EXPECT_TRUE(mapped->is_special(mask2));
  EXPECT_FALSE(mapped->is_special(mapped->token_id("[MASK]")));
  const std::vector<int32_t> ids = mapped->encode("a [MASK2] b", false);
  EXPECT_EQ(ids, (std::vector<int32_t>{mapped->token_id("a"), mask2, mapped->token_id("b")}));
  EXPECT_EQ(mapped->decode(ids), "a b");

  // added_tokens.json: tokens past the vocabulary; an uncased tokenizer lowercases them, and
  // decode keeps them apart from the word pieces.
  TempDir added_dir;
  auto added = load_folder(added_dir, {{"added_tokens.json", {{"NewWord", 551}, {"<x>", 552}}}});
  ASSERT_NE(added, nullptr);
  EXPECT_EQ(added->vocab_size(), 553);
  EXPECT_EQ(added->encode("a NEWWORD<X>b", false),
            (std::vector<int32_t>{added->token_id("a"), 551, 552, added->token_id("b")}));
  EXPECT_FALSE(added->is_special(551));
  EXPECT_EQ(added->decode(std::vector<int32_t>{added->token_id("un"), 551, added->token_id("##aff")}),
            "un newword ##aff");
}

TEST(WordPiece, BadInputText) {
  TempDir dir;
  auto tok = load_folder(dir, {});
  ASSERT_NE(tok, nullptr);
  // Bytes that are not UTF-8 read as U+FFFD, which BERT's cleaning drops.
  EXPECT_EQ(tok->encode("hel\xff\xfelo wor\xc3", false), tok->encode("hello wor", false));
  // A long input in one word and in many.
  std::string word(1 << 16, 'a'), words;
  for (int i = 0; i < 20000; ++i) words += "hello, world ";
  EXPECT_EQ(tok->encode(word, false), std::vector<int32_t>{tok->token_id("[UNK]")});
  EXPECT_EQ(tok->encode(words, false).size(), 60000u);
}

std::string load_error(const TempDir& dir, const std::string& name, const std::string& text) {
  test::write_file(dir / name, text);
  auto tok = load_tokenizer(dir / name);
  EXPECT_FALSE(tok.is_ok()) << name << ": " << text.substr(0, 80);
  return tok.is_ok() ? std::string() : tok.status().message();
}

TEST(WordPiece, BadFilesSayWhatIsWrong) {
  {
    TempDir dir;
    EXPECT_EQ(load_error(dir, "vocab.txt", ""), dir / "vocab.txt" + ": the vocabulary has no tokens");
    EXPECT_EQ(load_error(dir, "vocab.txt", "[PAD]\nhello\n"),
              dir / "vocab.txt" + ": the unknown token '[UNK]' is not in the vocabulary");
    EXPECT_EQ(load_error(dir, "vocab.txt", "[UNK]\nok\nbad\xff\n"), dir / "vocab.txt" + ": line 3 is not UTF-8");
  }
  {
    TempDir dir;
    test::write_file(dir / "tokenizer_config.json", R"({"do_lower_case": "yes"})");
    const std::string err = load_error(dir, "vocab.txt", "[UNK]\n[CLS]\n[SEP]\n");
    EXPECT_NE(err.find("tokenizer_config.json"), std::string::npos) << err;
    EXPECT_NE(err.find("do_lower_case"), std::string::npos) << err;
    test::write_file(dir / "tokenizer_config.json", R"({"never_split": "[foo]"})");
    EXPECT_NE(load_error(dir, "vocab.txt", "[UNK]\n").find("never_split"), std::string::npos);
    test::write_file(dir / "tokenizer_config.json", R"({"cls_token": null})");
    EXPECT_NE(load_error(dir, "vocab.txt", "[UNK]\n").find("cls_token and sep_token"), std::string::npos);
    test::write_file(dir / "tokenizer_config.json", "{}");
    test::write_file(dir / "added_tokens.json", R"({"new": 7})");
    EXPECT_EQ(load_error(dir, "vocab.txt", "[UNK]\n[CLS]\n[SEP]\n"),
              dir / "added_tokens.json" + ": token 'new' has id 7, but the next free id is 3");
  }
  {
    TempDir dir;
    const Json good = Json::parse(test::read_file(fixture("tokenizer_uncased.json")));
    const std::string path = dir / "tokenizer.json";
    Json j = good;
    j["pre_tokenizer"] = {{"type", "Whitespace"}};
    EXPECT_EQ(load_error(dir, "tokenizer.json", j.dump()),
              path + ": unsupported pre_tokenizer 'Whitespace' for a WordPiece model (supported: BertPreTokenizer)");
    j = good;
    j["normalizer"] = {{"type", "NFD"}};
    EXPECT_EQ(load_error(dir, "tokenizer.json", j.dump()),
              path + ": unsupported normalizer type 'NFD' for a WordPiece model (supported: BertNormalizer)");
    j = good;
    j["decoder"] = {{"type", "ByteLevel"}};
    EXPECT_EQ(load_error(dir, "tokenizer.json", j.dump()),
              path + ": unsupported decoder type 'ByteLevel' for a WordPiece model (supported: WordPiece)");
    j = good;
    j["model"]["unk_token"] = "<unk>";
    EXPECT_EQ(load_error(dir, "tokenizer.json", j.dump()),
              path + ": the unknown token '<unk>' is not in the vocabulary");
    j = good;
    j["model"]["vocab"] = "oops";
    EXPECT_EQ(load_error(dir, "tokenizer.json", j.dump()), path + ": model: field 'vocab' missing or not an object");
    j = good;
    j["post_processor"]["pair"][1] = {{"Sequence", {{"id", "C"}, {"type_id", 0}}}};
    EXPECT_EQ(load_error(dir, "tokenizer.json", j.dump()),
              path + ": post_processor TemplateProcessing pair: sequence id 'C' is neither A nor B");
  }
}

// Pair layouts of the BPE tokenizers: from the post_processor, or the single template around
// each sequence.
TEST(PairTemplates, PostProcessorsDecide) {
  TempDir dir;
  const std::string path = dir / "tokenizer.json";
  Json j = test::gpt2_tokenizer_json(false);
  auto load = [&](const Json& doc) {
    test::write_file(path, doc.dump());
    auto tok = load_tokenizer(path);
    EXPECT_TRUE(tok.is_ok()) << tok.status().message();
    return tok.is_ok() ? std::move(tok).value() : nullptr;
  };
  auto gpt2 = load(j);
  ASSERT_NE(gpt2, nullptr);
  const std::vector<int32_t> a = gpt2->encode("Hello there", false), b = gpt2->encode(" world", false);
  auto concat = [](std::initializer_list<std::vector<int32_t>> parts) {
    std::vector<int32_t> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  };
  auto types = [](size_t zeros, size_t ones) {
    std::vector<int32_t> t(zeros, 0);
    t.resize(zeros + ones, 1);
    return t;
  };
  // ByteLevel post-processor: nothing added; b is segment 1.
  PairEncoding p = gpt2->encode_pair("Hello there", " world", true);
  EXPECT_EQ(p.ids, concat({a, b}));
  EXPECT_EQ(p.type_ids, types(a.size(), b.size()));

  // RoBERTa: <s> a </s></s> b </s>, one token type.
  j["post_processor"] = {{"type", "RobertaProcessing"},
                         {"sep", {"</s>", 2}},
                         {"cls", {"<s>", 0}},
                         {"trim_offsets", true},
                         {"add_prefix_space", false}};
  auto roberta = load(j);
  ASSERT_NE(roberta, nullptr);
  p = roberta->encode_pair("Hello there", " world", true);
  EXPECT_EQ(p.ids, concat({{0}, a, {2, 2}, b, {2}}));
  EXPECT_EQ(p.type_ids, types(p.ids.size(), 0));
  std::vector<int8_t> origin = {-1};
  origin.resize(1 + a.size(), 0);
  origin.resize(3 + a.size(), -1);
  origin.resize(3 + a.size() + b.size(), 1);
  origin.push_back(-1);
  EXPECT_EQ(p.sequence_ids, origin);
  EXPECT_EQ(roberta->encode("Hello there", true), concat({{0}, a, {2}}));
  p = roberta->encode_pair("Hello there", " world", false);
  EXPECT_EQ(p.ids, concat({a, b}));
  EXPECT_EQ(p.type_ids, types(p.ids.size(), 0));

  // BertProcessing: [CLS] a [SEP] b [SEP], b and its [SEP] segment 1.
  j["post_processor"] = {{"type", "BertProcessing"}, {"sep", {"[SEP]", 5}}, {"cls", {"[CLS]", 4}}};
  auto bert = load(j);
  ASSERT_NE(bert, nullptr);
  p = bert->encode_pair("Hello there", " world", true);
  EXPECT_EQ(p.ids, concat({{4}, a, {5}, b, {5}}));
  EXPECT_EQ(p.type_ids, types(a.size() + 2, b.size() + 1));

  // TemplateProcessing's "pair" as written.
  auto special = [](const char* id, int type) { return Json{{"SpecialToken", {{"id", id}, {"type_id", type}}}}; };
  auto seq = [](const char* id, int type) { return Json{{"Sequence", {{"id", id}, {"type_id", type}}}}; };
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single", {special("<b>", 0), seq("A", 0)}},
                         {"pair", {special("<b>", 0), seq("A", 0), special("<e>", 0), special("<b>", 1), seq("B", 1)}},
                         {"special_tokens",
                          {{"<b>", {{"id", "<b>"}, {"ids", {7}}, {"tokens", {"<b>"}}}},
                           {"<e>", {{"id", "<e>"}, {"ids", {8, 9}}, {"tokens", {"<e>", "<e2>"}}}}}}};
  auto templ = load(j);
  ASSERT_NE(templ, nullptr);
  p = templ->encode_pair("Hello there", " world", true);
  EXPECT_EQ(p.ids, concat({{7}, a, {8, 9, 7}, b}));
  EXPECT_EQ(p.type_ids, types(a.size() + 3, b.size() + 1));

  // SentencePiece LLaMA, no pair template: <s> a <s> b (LlamaTokenizer's layout).
  auto llama = load_tokenizer(test::llama2_model());
  ASSERT_TRUE(llama.is_ok()) << llama.status().message();
  const std::vector<int32_t> la = (*llama)->encode("Hello", false), lb = (*llama)->encode("world", false);
  p = (*llama)->encode_pair("Hello", "world", true);
  EXPECT_EQ(p.ids, concat({{1}, la, {1}, lb}));
  EXPECT_EQ(p.type_ids, types(la.size() + 1, lb.size() + 1));
  origin = {-1};
  origin.resize(1 + la.size(), 0);
  origin.push_back(-1);
  origin.resize(2 + la.size() + lb.size(), 1);
  EXPECT_EQ(p.sequence_ids, origin);
  p = (*llama)->encode_pair("Hello", "world", false);
  EXPECT_EQ(p.ids, concat({la, lb}));
  EXPECT_EQ(p.type_ids, types(p.ids.size(), 0));
}

}  // namespace
}  // namespace peft
