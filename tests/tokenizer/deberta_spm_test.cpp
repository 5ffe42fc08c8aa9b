// DeBERTa-v3's tokenizer against transformers 4.31's DebertaV2Tokenizer (the slow one, on the
// sentencepiece library): the cases of tests/fixtures/deberta_spm (made by
// tests/reference/make_deberta_spm_cases.py) through load_tokenizer on a model folder
// (spm.model + tokenizer_config.json); the files beside it; bad files.
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

std::string fixture(const std::string& name) { return test::fixture_dir("local:deberta_spm") + "/" + name; }

std::unique_ptr<Tokenizer> load_folder(const TempDir& dir, const std::map<std::string, Json>& files) {
  test::write_file(dir / "spm.model", test::read_file(fixture("spm.model")));
  for (const auto& [name, j] : files) test::write_file(dir / name, j.dump());
  auto tok = load_tokenizer(dir.path());
  EXPECT_TRUE(tok.is_ok()) << tok.status().message();
  return tok.is_ok() ? std::move(tok).value() : nullptr;
}

std::vector<int32_t> ids_of(const Json& j) { return j.get<std::vector<int32_t>>(); }

TEST(DebertaSpm, MatchesDebertaV2Tokenizer) {
  const Json configs = Json::parse(test::read_file(fixture("configs.json")));
  std::map<std::string, std::unique_ptr<Tokenizer>> tokenizers;
  std::vector<std::unique_ptr<TempDir>> dirs;
  int rows = 0, matched = 0;
  const std::string text = test::read_file(fixture("cases.jsonl"));
  for (size_t pos = 0, end; pos < text.size(); pos = end + 1) {
    end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (end == pos) continue;
    const Json row = Json::parse(text.substr(pos, end - pos));
    const std::string name = row["config"];
    if (!tokenizers.count(name)) {
      dirs.push_back(std::make_unique<TempDir>());
      tokenizers[name] = load_folder(*dirs.back(), {{"tokenizer_config.json", configs.at(name)}});
      ASSERT_NE(tokenizers[name], nullptr) << name;
      EXPECT_EQ(tokenizers[name]->kind(), "deberta-spm");
    }
    const Tokenizer& tok = *tokenizers[name];
    std::vector<int32_t> ids, plain, types;
    if (row.contains("text_pair")) {
      const PairEncoding enc =
          tok.encode_pair(row["text"].get<std::string>(), row["text_pair"].get<std::string>(), true);
      ids = enc.ids;
      types = enc.type_ids;
      plain = tok.encode_pair(row["text"].get<std::string>(), row["text_pair"].get<std::string>(), false).ids;
    } else {
      ids = tok.encode(row["text"].get<std::string>(), true);
      plain = tok.encode(row["text"].get<std::string>(), false);
      types.assign(ids.size(), 0);
    }
    const std::string decoded = tok.decode(ids_of(row["ids"]));
    const std::string where = name + " " + row.dump().substr(0, 160);
    EXPECT_EQ(ids, ids_of(row["ids"])) << where;
    EXPECT_EQ(plain, ids_of(row["ids_plain"])) << where;
    EXPECT_EQ(types, ids_of(row["token_type_ids"])) << where;
    EXPECT_EQ(decoded, row["decoded"].get<std::string>()) << where;
    ++rows;
    matched += ids == ids_of(row["ids"]) && plain == ids_of(row["ids_plain"]) &&
               types == ids_of(row["token_type_ids"]) && decoded == row["decoded"].get<std::string>();
  }
  EXPECT_GE(rows, 100);
  EXPECT_EQ(matched, rows);
  std::printf("DebertaV2Tokenizer (transformers 4.31) cases: %d / %d match (%zu configurations)\n", matched, rows,
              tokenizers.size());
}

TEST(DebertaSpm, SpecialTokensFromTheFilesBesideTheModel) {
  TempDir dir;
  // added_tokens.json as deberta-v3 ships it ([MASK] past the model), an added plain token, and
  // special_tokens_map.json naming an additional special token.
  auto tok = load_folder(dir, {{"tokenizer_config.json", {{"do_lower_case", false}}},
                               {"added_tokens.json", {{"[MASK]", 400}, {"<ent>", 401}}},
                               {"special_tokens_map.json", {{"additional_special_tokens", {"<extra>"}}}}});
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->vocab_size(), 403);
  EXPECT_EQ(tok->token_id("[MASK]"), 400);
  EXPECT_EQ(tok->token_id("<ent>"), 401);
  EXPECT_EQ(tok->token_id("<extra>"), 402);
  EXPECT_EQ(tok->bos_id(), tok->token_id("[CLS]"));
  EXPECT_EQ(tok->eos_id(), tok->token_id("[SEP]"));
  EXPECT_TRUE(tok->is_special(400) && tok->is_special(402) && !tok->is_special(401));
  const std::vector<int32_t> ids = tok->encode("a <ent> b <extra>", false);
  EXPECT_NE(std::find(ids.begin(), ids.end(), 401), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), 402), ids.end());
  // Decode keeps a plain added token as its own word and drops specials.
  EXPECT_EQ(tok->decode(std::vector<int32_t>{1, 401, 402, 2, -1, 999}), "<ent>");

  // A spm.model path itself loads the same way.
  auto direct = load_tokenizer(dir / "spm.model");
  ASSERT_TRUE(direct.is_ok()) << direct.status().message();
  EXPECT_EQ((*direct)->kind(), "deberta-spm");
}

TEST(DebertaSpm, BadFilesAreNamed) {
  TempDir gap;
  test::write_file(gap / "spm.model", test::read_file(fixture("spm.model")));
  test::write_file(gap / "added_tokens.json", Json{{"<x>", 405}}.dump());
  auto bad = load_tokenizer(gap.path());
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("added_tokens.json: token '<x>' has id 405, but the next free id is 400"),
            std::string::npos)
      << bad.status().message();

  TempDir truncated;
  const std::string bytes = test::read_file(fixture("spm.model"));
  test::write_file(truncated / "spm.model", bytes.substr(0, bytes.size() / 3));
  auto cut = load_tokenizer(truncated.path());
  ASSERT_FALSE(cut.is_ok());
  EXPECT_NE(cut.status().message().find("spm.model: not a SentencePiece model"), std::string::npos)
      << cut.status().message();

  TempDir no_unk;
  test::write_file(no_unk / "spm.model", bytes);
  test::write_file(no_unk / "tokenizer_config.json", Json{{"unk_token", "<nope>"}}.dump());
  auto unk = load_tokenizer(no_unk.path());
  ASSERT_FALSE(unk.is_ok());
  EXPECT_NE(unk.status().message().find("the unknown token '<nope>'"), std::string::npos) << unk.status().message();
}

}  // namespace
}  // namespace peft
