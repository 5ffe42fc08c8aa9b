// vocab.txt (+ tokenizer_config.json, special_tokens_map.json, added_tokens.json) and
// WordPiece tokenizer.json readers, both as transformers 4.31 interprets them.
#include "tokenizer/wordpiece_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tokenizer/post_processor.h"
#include "tokenizer/slow_tokenizer_files.h"
#include "tokenizer/tokenizer_json.h"
#include "tokenizer/utf8.h"

namespace peft {
namespace {

namespace fs = std::filesystem;

// The BasicTokenizer switches of tokenizer_config.json that are present.
Status read_basic_options(const Json& config, const std::string& where, BertBasicOptions& basic) {
  PEFT_ASSIGN_OR_RETURN(basic.lowercase, json_get_bool_or(config, "do_lower_case", basic.lowercase, where));
  PEFT_ASSIGN_OR_RETURN(basic.handle_chinese_chars,
                        json_get_bool_or(config, "tokenize_chinese_chars", basic.handle_chinese_chars, where));
  auto it = config.find("strip_accents");
  if (it != config.end()) {
    if (it->is_null())
      basic.strip_accents.reset();
    else if (it->is_boolean())
      basic.strip_accents = it->get<bool>();
    else
      return Status::errorf("{}: field 'strip_accents' must be true, false or null", where);
  }
  return Status::ok();
}

Status read_vocab_txt(const std::string& path, std::vector<std::string>& vocab) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::errorf("{}: cannot open vocabulary file", path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status::errorf("{}: read error", path);
  const std::string text = buf.str();
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find_first_of("\r\n", pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    if (!utf8::is_valid(line)) return Status::errorf("{}: line {} is not UTF-8", path, vocab.size() + 1);
    vocab.push_back(std::move(line));
    pos = end + (text.compare(end, 2, "\r\n") == 0 ? 2 : 1);
  }
  if (vocab.empty()) return Status::errorf("{}: the vocabulary has no tokens", path);
  return Status::ok();
}

// The id the next token added past the vocabulary gets.
int32_t next_added_id(const WordPieceSpec& spec) {
  int32_t next = int32_t(spec.vocab.size());
  for (const AddedTokenSpec& a : spec.added_tokens) next = std::max(next, a.id + 1);
  return next;
}

// {"token": id, ...}: tokens from_pretrained adds past the vocabulary, in id order; their
// ids must continue it without gaps.
Status read_added_tokens_json(const Json& added, const std::string& where, const SpecialTokenNames& specials,
                              bool lowercase, WordPieceSpec& spec) {
  PEFT_ASSIGN_OR_RETURN(auto entries, added_tokens_by_id(added, where));
  const std::vector<std::string> all_specials = specials.all();
  for (auto& [id, token] : entries) {
    const int64_t next = next_added_id(spec);
    if (id != next)
      return Status::errorf("{}: token '{}' has id {}, but the next free id is {}", where, token, id, next);
    const bool special = std::find(all_specials.begin(), all_specials.end(), token) != all_specials.end();
    // (transformers lowercases tokens it adds to an uncased tokenizer, special ones aside.)
    spec.added_tokens.push_back({int32_t(id), lowercase && !special ? lowercase_chars(token) : token, special});
  }
  return Status::ok();
}

int32_t find_id(const WordPieceSpec& spec, const std::string& token) {
  for (const AddedTokenSpec& a : spec.added_tokens)
    if (a.content == token) return a.id;
  // The last of repeated lines wins, as in BertTokenizer's dict.
  for (size_t id = spec.vocab.size(); id-- > 0;)
    if (spec.vocab[id] == token) return int32_t(id);
  return -1;
}

Status bert_from_configs(const Json& config, const Json& special_map, const Json& added, const std::string& dir,
                         WordPieceSpec& spec) {
  const std::string config_path = (fs::path(dir) / "tokenizer_config.json").string();
  SpecialTokenNames specials;  // BertTokenizer's: no bos/eos
  bool do_basic = true;
  if (!config.is_null()) {
    PEFT_TRY(read_basic_options(config, config_path, spec.basic));
    PEFT_ASSIGN_OR_RETURN(do_basic, json_get_bool_or(config, "do_basic_tokenize", true, config_path));
    PEFT_ASSIGN_OR_RETURN(spec.cleanup, json_get_bool_or(config, "clean_up_tokenization_spaces", true, config_path));
    auto never = config.find("never_split");
    if (never != config.end() && !never->is_null()) {
      if (!never->is_array()) return Status::errorf("{}: field 'never_split' must be an array", config_path);
      for (const Json& w : *never) {
        if (!w.is_string()) return Status::errorf("{}: never_split entries must be strings", config_path);
        spec.never_split.push_back(w.get<std::string>());
      }
    }
    PEFT_TRY(read_special_tokens(config, config_path, specials));
  }
  if (!special_map.is_null()) PEFT_TRY(read_special_tokens(special_map, dir + "/special_tokens_map.json", specials));
  // Without the BasicTokenizer, BertTokenizer has no do_lower_case and lowercases nothing.
  spec.basic.enabled = do_basic;
  if (!do_basic) spec.basic.lowercase = false;
  if (!added.is_null())
    PEFT_TRY(read_added_tokens_json(added, dir + "/added_tokens.json", specials, spec.basic.lowercase, spec));

  spec.unk_token = specials.unk;
  if (specials.unk.empty()) return Status::errorf("{}: unk_token is null; BERT needs one", config_path);
  if (specials.cls.empty() || specials.sep.empty())
    return Status::errorf("{}: cls_token and sep_token are needed for [CLS] text [SEP]", config_path);
  for (const std::string& token : specials.all()) {
    int32_t id = find_id(spec, token);
    // from_pretrained adds special tokens the vocabulary lacks (all but the unknown token).
    if (id < 0 && token != specials.unk) id = next_added_id(spec);
    if (id < 0) continue;  // build() reports the missing unknown token
    auto it = std::find_if(spec.added_tokens.begin(), spec.added_tokens.end(),
                           [&](const AddedTokenSpec& a) { return a.id == id; });
    if (it == spec.added_tokens.end())
      spec.added_tokens.push_back({id, token, true});
    else
      it->special = true;
  }
  const int32_t cls = find_id(spec, specials.cls), sep = find_id(spec, specials.sep);
  spec.prefix_ids = {cls};
  spec.suffix_ids = {sep};
  spec.pair_template = bert_pair_template(cls, sep);
  spec.bos = cls;
  spec.eos = sep;
  return Status::ok();
}

Status read_bert_normalizer(const Json& n, const std::string& path, BertBasicOptions& basic) {
  if (n.is_null()) {
    basic.clean_text = basic.handle_chinese_chars = basic.lowercase = false;
    basic.strip_accents = false;
    return Status::ok();
  }
  const std::string where = path + ": normalizer";
  PEFT_ASSIGN_OR_RETURN(std::string type, json_get_string(n, "type", where));
  if (type != "BertNormalizer")
    return Status::errorf("{}: unsupported normalizer type '{}' for a WordPiece model (supported: BertNormalizer)",
                          path, type);
  PEFT_ASSIGN_OR_RETURN(basic.clean_text, json_get_bool_or(n, "clean_text", true, where));
  PEFT_ASSIGN_OR_RETURN(basic.handle_chinese_chars, json_get_bool_or(n, "handle_chinese_chars", true, where));
  PEFT_ASSIGN_OR_RETURN(basic.lowercase, json_get_bool_or(n, "lowercase", true, where));
  auto strip = n.find("strip_accents");
  if (strip != n.end() && !strip->is_null()) {
    if (!strip->is_boolean()) return Status::errorf("{}: field 'strip_accents' must be true, false or null", where);
    basic.strip_accents = strip->get<bool>();
  }
  return Status::ok();
}

Status read_wordpiece_json(const Json& root, const std::string& path, WordPieceSpec& spec) {
  const Json& m = root.at("model");
  const std::string where = path + ": model";
  auto vocab = m.find("vocab");
  if (vocab == m.end() || !vocab->is_object())
    return Status::errorf("{}: field 'vocab' missing or not an object", where);
  PEFT_TRY(read_vocab_object(*vocab, where + ".vocab", spec.vocab));
  PEFT_ASSIGN_OR_RETURN(spec.unk_token, json_get_string_or(m, "unk_token", "[UNK]", where));
  PEFT_ASSIGN_OR_RETURN(spec.prefix, json_get_string_or(m, "continuing_subword_prefix", "##", where));
  PEFT_ASSIGN_OR_RETURN(int64_t max_chars, json_get_int_or(m, "max_input_chars_per_word", 100, where));
  if (max_chars < 1 || max_chars > (1 << 30))
    return Status::errorf("{}: max_input_chars_per_word {} out of range", where, max_chars);
  spec.max_input_chars_per_word = int32_t(max_chars);
  PEFT_TRY(parse_added_tokens(root, path, spec.added_tokens));
  PEFT_TRY(read_bert_normalizer(root.value("normalizer", Json()), path, spec.basic));

  const Json pre = root.value("pre_tokenizer", Json());
  const std::string pre_type = pre.is_object() ? pre.value("type", std::string()) : std::string();
  if (pre_type != "BertPreTokenizer") {
    return Status::errorf("{}: unsupported pre_tokenizer '{}' for a WordPiece model (supported: BertPreTokenizer)",
                          path, pre.is_null() ? "null" : pre_type);
  }
  const Json decoder = root.value("decoder", Json());
  if (decoder.is_null()) {
    spec.decode_prefix.clear();
    spec.cleanup = false;
  } else {
    PEFT_ASSIGN_OR_RETURN(std::string type, json_get_string(decoder, "type", path + ": decoder"));
    if (type != "WordPiece")
      return Status::errorf("{}: unsupported decoder type '{}' for a WordPiece model (supported: WordPiece)", path,
                            type);
    PEFT_ASSIGN_OR_RETURN(spec.decode_prefix, json_get_string_or(decoder, "prefix", "##", path + ": decoder"));
    PEFT_ASSIGN_OR_RETURN(spec.cleanup, json_get_bool_or(decoder, "cleanup", true, path + ": decoder"));
  }
  TokenizerSpec post;
  PEFT_TRY(parse_post_processor(root.value("post_processor", Json()), path, post));
  spec.prefix_ids = std::move(post.prefix_ids);
  spec.suffix_ids = std::move(post.suffix_ids);
  spec.pair_template = std::move(post.pair_template);
  if (!spec.prefix_ids.empty()) spec.bos = spec.prefix_ids.front();
  if (!spec.suffix_ids.empty()) spec.eos = spec.suffix_ids.back();
  return Status::ok();
}

}  // namespace

Result<WordPieceSpec> bert_vocab_spec(const std::string& vocab_txt) {
  WordPieceSpec spec;
  spec.where = vocab_txt;
  spec.kind = "bert-wordpiece";
  PEFT_TRY(read_vocab_txt(vocab_txt, spec.vocab));
  const fs::path dir = fs::path(vocab_txt).parent_path();
  PEFT_ASSIGN_OR_RETURN(Json config, read_json_if_present(dir / "tokenizer_config.json"));
  PEFT_ASSIGN_OR_RETURN(Json special_map, read_json_if_present(dir / "special_tokens_map.json"));
  PEFT_ASSIGN_OR_RETURN(Json added, read_json_if_present(dir / "added_tokens.json"));
  try {
    PEFT_TRY(bert_from_configs(config, special_map, added, dir.string(), spec));
  } catch (const Json::exception& e) {
    return Status::errorf("{}: {}", dir.string(), json_error_text(e));
  }
  return spec;
}

Result<std::unique_ptr<Tokenizer>> load_bert_vocab(const std::string& vocab_txt) {
  PEFT_ASSIGN_OR_RETURN(WordPieceSpec spec, bert_vocab_spec(vocab_txt));
  PEFT_ASSIGN_OR_RETURN(auto tok, WordPieceTokenizer::build(std::move(spec)));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

bool is_wordpiece_json(const Json& root) {
  if (!root.is_object()) return false;
  auto m = root.find("model");
  if (m == root.end() || !m->is_object()) return false;
  auto type = m->find("type");
  return type != m->end() && type->is_string() && type->get<std::string>() == "WordPiece";
}

Result<std::unique_ptr<Tokenizer>> load_wordpiece_json(const Json& root, const std::string& path) {
  WordPieceSpec spec;
  spec.where = path;
  spec.kind = "tokenizer.json";
  spec.basic.nfc = false;
  spec.lowercase_before_added = false;
  try {
    PEFT_TRY(read_wordpiece_json(root, path, spec));
  } catch (const Json::exception& e) {
    return Status::errorf("{}: {}", path, json_error_text(e));
  }
  const fs::path config_path = fs::path(path).parent_path() / "tokenizer_config.json";
  PEFT_ASSIGN_OR_RETURN(Json config, read_json_if_present(config_path));
  // transformers cleans up after the Rust decoder too (clean_up_tokenization_spaces, default
  // true in 4.31).
  bool cleanup = true;
  if (!config.is_null()) {
    try {
      PEFT_TRY(read_basic_options(config, config_path.string(), spec.basic));
      PEFT_ASSIGN_OR_RETURN(cleanup,
                            json_get_bool_or(config, "clean_up_tokenization_spaces", true, config_path.string()));
    } catch (const Json::exception& e) {
      return Status::errorf("{}: {}", config_path.string(), json_error_text(e));
    }
  }
  spec.cleanup = spec.cleanup || cleanup;
  PEFT_ASSIGN_OR_RETURN(auto tok, WordPieceTokenizer::build(std::move(spec)));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace peft
