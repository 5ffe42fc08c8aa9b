// tokenizer.json reader: model (BPE), added_tokens, post_processor, plus tokenizer_config.json.
#include "tokenizer/tokenizer_json.h"

#include <filesystem>

#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/tokenizer_json_steps.h"

namespace peft {
namespace {

constexpr int64_t kMaxId = 1 << 24;

Status parse_model(const Json& root, const std::string& path, BpeSpec& bpe) {
  auto it = root.find("model");
  if (it == root.end() || !it->is_object()) return Status::errorf("{}: field 'model' missing or not an object", path);
  const Json& m = *it;
  const std::string where = path + ": model";
  // Old files may omit "type"; a "merges" field means BPE there.
  PEFT_ASSIGN_OR_RETURN(std::string type, json_get_string_or(m, "type", m.contains("merges") ? "BPE" : "", where));
  if (type != "BPE") {
    return Status::errorf("{}: unsupported model type '{}' (supported: BPE, WordPiece)", path,
                          type.empty() ? "(none)" : type);
  }
  auto vocab = m.find("vocab");
  if (vocab == m.end() || !vocab->is_object())
    return Status::errorf("{}: field 'vocab' missing or not an object", where);
  PEFT_TRY(read_vocab_object(*vocab, where + ".vocab", bpe.vocab));
  auto merges = m.find("merges");
  if (merges != m.end() && !merges->is_null()) {
    if (!merges->is_array()) return Status::errorf("{}: field 'merges' must be an array", where);
    bpe.merges.reserve(merges->size());
    for (size_t i = 0; i < merges->size(); ++i) {
      const Json& e = (*merges)[i];
      // Both spellings occur in the wild: "a b" (older files) and ["a", "b"].
      if (e.is_string()) {
        const std::string& s = e.get_ref<const std::string&>();
        const size_t space = s.find(' ');
        if (space == std::string::npos)
          return Status::errorf("{}: merge {} ('{}') is not two tokens separated by a space", where, i, s);
        bpe.merges.emplace_back(s.substr(0, space), s.substr(space + 1));
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        bpe.merges.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
      } else {
        return Status::errorf("{}: merge {} must be \"a b\" or [\"a\", \"b\"], found {}", where, i,
                              e.dump().substr(0, 60));
      }
    }
  }
  PEFT_ASSIGN_OR_RETURN(bpe.unk_token, json_get_string_or(m, "unk_token", "", where));
  PEFT_ASSIGN_OR_RETURN(bpe.byte_fallback, json_get_bool_or(m, "byte_fallback", false, where));
  PEFT_ASSIGN_OR_RETURN(bpe.fuse_unk, json_get_bool_or(m, "fuse_unk", false, where));
  PEFT_ASSIGN_OR_RETURN(bpe.ignore_merges, json_get_bool_or(m, "ignore_merges", false, where));
  PEFT_ASSIGN_OR_RETURN(bpe.continuing_subword_prefix, json_get_string_or(m, "continuing_subword_prefix", "", where));
  PEFT_ASSIGN_OR_RETURN(bpe.end_of_word_suffix, json_get_string_or(m, "end_of_word_suffix", "", where));
  // "dropout" only randomises training-time tokenization; inference ignores it here.
  return Status::ok();
}

}  // namespace

Status parse_added_tokens(const Json& root, const std::string& path, std::vector<AddedTokenSpec>& out) {
  auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return Status::ok();
  if (!it->is_array()) return Status::errorf("{}: field 'added_tokens' must be an array", path);
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& t = (*it)[i];
    const std::string where = path + ": added_tokens[" + std::to_string(i) + "]";
    AddedTokenSpec a;
    PEFT_ASSIGN_OR_RETURN(int64_t id, json_get_int(t, "id", where));
    if (id < 0 || id >= kMaxId) return Status::errorf("{}: id {} out of range", where, id);
    a.id = int32_t(id);
    PEFT_ASSIGN_OR_RETURN(a.content, json_get_string(t, "content", where));
    PEFT_ASSIGN_OR_RETURN(a.special, json_get_bool_or(t, "special", false, where));
    PEFT_ASSIGN_OR_RETURN(a.lstrip, json_get_bool_or(t, "lstrip", false, where));
    PEFT_ASSIGN_OR_RETURN(a.rstrip, json_get_bool_or(t, "rstrip", false, where));
    PEFT_ASSIGN_OR_RETURN(a.single_word, json_get_bool_or(t, "single_word", false, where));
    PEFT_ASSIGN_OR_RETURN(a.normalized, json_get_bool_or(t, "normalized", !a.special, where));
    out.push_back(std::move(a));
  }
  return Status::ok();
}

namespace {

// The ids of a template's {"SpecialToken": {"id": name, ...}} from its special_tokens table.
Status template_special_ids(const Json* specials, const std::string& name, const std::string& where,
                            std::vector<int32_t>& out) {
  if (!specials || !specials->contains(name) || !(*specials)[name].contains("ids") ||
      !(*specials)[name]["ids"].is_array()) {
    return Status::errorf("{}: special token '{}' has no entry with ids in special_tokens", where, name);
  }
  for (const Json& id : (*specials)[name]["ids"]) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= kMaxId) {
      return Status::errorf("{}: special token '{}' has a bad id {}", where, name, id.dump());
    }
    out.push_back(id.get<int32_t>());
  }
  return Status::ok();
}

// One template ("single" or "pair") as pieces.
Status parse_template_pieces(const Json& list, const Json* specials, const std::string& where,
                             std::vector<TemplatePiece>& out) {
  for (const Json& item : list) {
    TemplatePiece piece;
    const Json* body = nullptr;
    if (item.contains("Sequence") && item["Sequence"].is_object()) {
      body = &item["Sequence"];
      PEFT_ASSIGN_OR_RETURN(std::string seq, json_get_string_or(*body, "id", "A", where + " Sequence"));
      if (seq != "A" && seq != "B") return Status::errorf("{}: sequence id '{}' is neither A nor B", where, seq);
      piece.kind = seq == "A" ? TemplatePiece::Kind::A : TemplatePiece::Kind::B;
    } else if (item.contains("SpecialToken") && item["SpecialToken"].is_object()) {
      body = &item["SpecialToken"];
      piece.kind = TemplatePiece::Kind::Special;
      PEFT_ASSIGN_OR_RETURN(std::string name, json_get_string(*body, "id", where + " SpecialToken"));
      PEFT_TRY(template_special_ids(specials, name, where, piece.ids));
    } else {
      return Status::errorf("{}: template item {} is neither a Sequence nor a SpecialToken", where,
                            item.dump().substr(0, 60));
    }
    PEFT_ASSIGN_OR_RETURN(int64_t type_id, json_get_int_or(*body, "type_id", 0, where));
    if (type_id < 0 || type_id >= kMaxId) return Status::errorf("{}: type_id {} out of range", where, type_id);
    piece.type_id = int32_t(type_id);
    out.push_back(std::move(piece));
  }
  return Status::ok();
}

// TemplateProcessing: special tokens of "single" before $A go to prefix, after it to suffix;
// "pair" is kept whole.
Status parse_template(const Json& p, const std::string& where, TokenizerSpec& spec) {
  auto single = p.find("single");
  if (single == p.end() || !single->is_array()) return Status::errorf("{}: field 'single' must be an array", where);
  const Json* specials =
      p.contains("special_tokens") && p["special_tokens"].is_object() ? &p["special_tokens"] : nullptr;
  std::vector<TemplatePiece> pieces;
  PEFT_TRY(parse_template_pieces(*single, specials, where + " single", pieces));
  bool seen_sequence = false;
  for (const TemplatePiece& piece : pieces) {
    if (piece.kind != TemplatePiece::Kind::Special) {
      seen_sequence = true;
      continue;
    }
    auto& side = seen_sequence ? spec.suffix_ids : spec.prefix_ids;
    side.insert(side.end(), piece.ids.begin(), piece.ids.end());
  }
  auto pair = p.find("pair");
  if (pair != p.end() && !pair->is_null()) {
    if (!pair->is_array()) return Status::errorf("{}: field 'pair' must be an array", where);
    spec.pair_template.clear();
    PEFT_TRY(parse_template_pieces(*pair, specials, where + " pair", spec.pair_template));
  }
  return Status::ok();
}

// [token, id] pairs of RobertaProcessing / BertProcessing.
Result<int32_t> processing_id(const Json& p, const char* key, const std::string& where) {
  auto it = p.find(key);
  if (it == p.end() || !it->is_array() || it->size() != 2 || !(*it)[1].is_number_integer()) {
    return Status::errorf("{}: field '{}' must be [token, id]", where, key);
  }
  return (*it)[1].get<int32_t>();
}

}  // namespace

Status parse_post_processor(const Json& p, const std::string& path, TokenizerSpec& spec) {
  if (p.is_null()) return Status::ok();
  if (!p.is_object()) return Status::errorf("{}: post_processor must be an object or null", path);
  PEFT_ASSIGN_OR_RETURN(std::string type, json_get_string(p, "type", path + ": post_processor"));
  const std::string where = path + ": post_processor " + type;
  if (type == "ByteLevel") return Status::ok();  // only trims offsets
  if (type == "TemplateProcessing") return parse_template(p, where, spec);
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    PEFT_ASSIGN_OR_RETURN(int32_t cls, processing_id(p, "cls", where));
    PEFT_ASSIGN_OR_RETURN(int32_t sep, processing_id(p, "sep", where));
    spec.prefix_ids.push_back(cls);
    spec.suffix_ids.push_back(sep);
    spec.pair_template = type == "BertProcessing" ? bert_pair_template(cls, sep) : roberta_pair_template(cls, sep);
    return Status::ok();
  }
  if (type == "Sequence") {
    auto list = p.find("processors");
    if (list == p.end() || !list->is_array()) return Status::errorf("{}: field 'processors' must be an array", where);
    for (const Json& item : *list) PEFT_TRY(parse_post_processor(item, path, spec));
    return Status::ok();
  }
  return Status::errorf(
      "{}: unsupported post_processor type '{}' (supported: TemplateProcessing, ByteLevel, "
      "RobertaProcessing, BertProcessing, Sequence)",
      path, type);
}

Status read_vocab_object(const Json& obj, const std::string& where, std::vector<std::string>& vocab) {
  vocab.clear();
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 || it.value().get<int64_t>() >= kMaxId) {
      return Status::errorf("{}: token '{}' has id {}, expected an integer in [0, {})", where, it.key(),
                            it.value().dump(), kMaxId);
    }
    const size_t id = it.value().get<size_t>();
    if (id >= vocab.size()) vocab.resize(id + 1);
    if (!vocab[id].empty())
      return Status::errorf("{}: tokens '{}' and '{}' both have id {}", where, vocab[id], it.key(), id);
    vocab[id] = it.key();
  }
  return Status::ok();
}

Result<TokenizerSpec> parse_tokenizer_json(const Json& root, const std::string& path) {
  if (!root.is_object()) return Status::errorf("{}: expected a JSON object at the top level", path);
  TokenizerSpec spec;
  spec.where = path;
  spec.kind = "tokenizer.json";
  // Errors from nlohmann (a field of an unexpected type deep inside) become messages.
  try {
    PEFT_TRY(parse_model(root, path, spec.model));
    PEFT_TRY(parse_added_tokens(root, path, spec.added_tokens));
    PEFT_TRY(parse_normalizer(root.value("normalizer", Json()), path, spec.normalizer));
    PEFT_TRY(parse_pre_tokenizer(root.value("pre_tokenizer", Json()), path, spec.pre_tokenizer));
    const Json decoder = root.value("decoder", Json());
    spec.has_decoder = !decoder.is_null();
    PEFT_TRY(parse_decoder(decoder, path, spec.decoder));
    PEFT_TRY(parse_post_processor(root.value("post_processor", Json()), path, spec));
  } catch (const Json::exception& e) {
    return Status::errorf("{}: {}", path, json_error_text(e));
  }
  if (!spec.prefix_ids.empty()) spec.bos = spec.prefix_ids.front();
  if (!spec.suffix_ids.empty()) spec.eos = spec.suffix_ids.back();
  return spec;
}

}  // namespace peft
