// GGUF tokenizer data: from a .gguf file to a Tokenizer, from a model folder to GgufVocab.
#include "tokenizer/gguf_tokenizer.h"

#include <sentencepiece_processor.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "io/gguf.h"
#include "io/json_file.h"

namespace peft {

namespace fs = std::filesystem;

VocabSpec vocab_spec_from_gguf(const GgufVocab& v) {
  VocabSpec s;
  s.model = v.model;
  s.tokens = v.tokens;
  s.scores = v.scores;
  s.token_types = v.token_types;
  s.merges = v.merges;
  s.bos = v.bos_id;
  s.eos = v.eos_id;
  s.unk = v.unk_id;
  s.pad = v.pad_id;
  s.add_bos = v.add_bos;
  s.add_eos = v.add_eos;
  s.add_space_prefix = v.add_space_prefix.value_or(true);
  s.remove_extra_whitespaces = v.remove_extra_whitespaces.value_or(false);
  s.pre = v.pre;
  return s;
}

Result<std::unique_ptr<Tokenizer>> load_gguf_tokenizer(const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(GgufFile file, GgufFile::open(path));
  PEFT_ASSIGN_OR_RETURN(std::optional<GgufVocab> vocab, read_gguf_vocab(file));
  if (!vocab) return Status::errorf("{}: the GGUF file has no tokenizer (tokenizer.ggml.model is missing)", path);
  return tokenizer_from_vocab(vocab_spec_from_gguf(*vocab), path);
}

Result<GgufVocab> gguf_vocab_from_sentencepiece(const std::string& model_file) {
  sentencepiece::SentencePieceProcessor sp;
  auto st = sp.Load(model_file);
  if (!st.ok()) return Status::errorf("{}: not a SentencePiece model ({})", model_file, st.ToString());
  GgufVocab v;
  v.model = "llama";
  const int n = sp.GetPieceSize();
  v.tokens.reserve(size_t(n));
  for (int id = 0; id < n; ++id) {
    v.tokens.push_back(sp.IdToPiece(id));
    v.scores.push_back(sp.GetScore(id));
    GgufTokenType t = GgufTokenType::Normal;
    if (sp.IsUnknown(id))
      t = GgufTokenType::Unknown;
    else if (sp.IsControl(id))
      t = GgufTokenType::Control;
    else if (sp.IsUnused(id))
      t = GgufTokenType::Unused;
    else if (sp.IsByte(id))
      t = GgufTokenType::Byte;
    v.token_types.push_back(int32_t(t));
  }
  auto id_or_none = [n](int id) { return id >= 0 && id < n ? int32_t(id) : int32_t(-1); };
  v.bos_id = id_or_none(sp.bos_id());
  v.eos_id = id_or_none(sp.eos_id());
  v.unk_id = id_or_none(sp.unk_id());
  v.pad_id = id_or_none(sp.pad_id());
  v.add_bos = true;  // LlamaTokenizer's defaults
  v.add_eos = false;
  // The normalizer flags live in the ModelProto, which this API does not expose: probe
  // them. With remove_extra_whitespaces a lone space encodes to nothing; with
  // add_dummy_prefix "a" becomes "▁a".
  std::vector<int> ids;
  v.remove_extra_whitespaces = sp.Encode(" ", &ids).ok() && ids.empty();
  std::vector<std::string> pieces;
  v.add_space_prefix = sp.Encode("a", &pieces).ok() && !pieces.empty() && pieces[0].starts_with("\xE2\x96\x81");
  return v;
}

namespace {

// Whether a tokenizer.json pre_tokenizer (or Sequence) contains ByteLevel.
bool has_byte_level(const Json& pre) {
  if (!pre.is_object()) return false;
  if (pre.value("type", "") == "ByteLevel") return true;
  if (pre.value("type", "") == "Sequence" && pre.contains("pretokenizers") && pre["pretokenizers"].is_array())
    for (const Json& step : pre["pretokenizers"])
      if (has_byte_level(step)) return true;
  return false;
}

}  // namespace

Result<GgufVocab> gguf_vocab_from_tokenizer_json(const std::string& path, const std::string& pre) {
  PEFT_ASSIGN_OR_RETURN(Json j, read_json_file(path));
  const Json* model = j.is_object() && j.contains("model") ? &j["model"] : nullptr;
  if (!model || !model->is_object() || model->value("type", "") != "BPE" || !model->contains("vocab") ||
      !(*model)["vocab"].is_object())
    return Status::errorf("{}: GGUF export needs a BPE tokenizer.json (model.type \"BPE\" with a vocab)", path);
  if (!has_byte_level(j.value("pre_tokenizer", Json())))
    return Status::errorf("{}: only byte-level BPE tokenizer.json files can be exported to GGUF", path);

  std::vector<std::pair<int64_t, std::string>> entries;
  std::vector<std::pair<int64_t, int32_t>> typed;  // added tokens: id → type
  for (const auto& [tok, id] : (*model)["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > (1 << 24))
      return Status::errorf("{}: model.vocab['{}'] must be a small non-negative integer", path, tok);
    entries.emplace_back(id.get<int64_t>(), tok);
  }
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (const Json& a : j["added_tokens"]) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
          a["id"].get<int64_t>() < 0 || a["id"].get<int64_t>() > (1 << 24))
        return Status::errorf("{}: added_tokens entries need an integer id and a content string", path);
      const int64_t id = a["id"].get<int64_t>();
      entries.emplace_back(id, a["content"].get<std::string>());
      typed.emplace_back(id, int32_t(a.value("special", false) ? GgufTokenType::Control : GgufTokenType::UserDefined));
    }
  int64_t size = 0;
  for (const auto& [id, tok] : entries) size = std::max(size, id + 1);
  GgufVocab v;
  v.model = "gpt2";
  v.pre = pre;
  v.tokens.assign(size_t(size), "");
  v.token_types.assign(size_t(size), int32_t(GgufTokenType::Normal));
  std::vector<bool> seen(size_t(size), false);
  for (const auto& [id, tok] : entries) {
    v.tokens[size_t(id)] = tok;
    seen[size_t(id)] = true;
  }
  for (const auto& [id, type] : typed) v.token_types[size_t(id)] = type;
  for (int64_t id = 0; id < size; ++id)
    if (!seen[size_t(id)]) {
      v.tokens[size_t(id)] = fmt::format("[PAD{}]", id);
      v.token_types[size_t(id)] = int32_t(GgufTokenType::Unused);
    }
  if (model->contains("merges") && (*model)["merges"].is_array())
    for (const Json& m : (*model)["merges"]) {
      if (m.is_string())
        v.merges.push_back(m.get<std::string>());
      else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
        v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      else
        return Status::errorf("{}: model.merges entries must be \"a b\" or [\"a\", \"b\"]", path);
    }
  v.add_bos = false;
  return v;
}

Result<std::optional<GgufVocab>> gguf_vocab_from_folder(const std::string& dir, const std::string& arch) {
  std::error_code ec;
  std::optional<GgufVocab> v;
  const std::string spm = dir + "/tokenizer.model", hf = dir + "/tokenizer.json";
  if (fs::is_regular_file(spm, ec)) {
    PEFT_ASSIGN_OR_RETURN(v, gguf_vocab_from_sentencepiece(spm));
  } else if (fs::is_regular_file(hf, ec)) {
    const std::string pre = arch == "gpt2" ? "gpt-2" : arch == "qwen2" ? "qwen2" : "llama-bpe";
    PEFT_ASSIGN_OR_RETURN(v, gguf_vocab_from_tokenizer_json(hf, pre));
  } else {
    return v;
  }
  const std::string config = dir + "/tokenizer_config.json";
  if (fs::is_regular_file(config, ec)) {
    PEFT_ASSIGN_OR_RETURN(Json c, read_json_file(config));
    if (c.is_object() && c.contains("add_bos_token") && c["add_bos_token"].is_boolean())
      v->add_bos = c["add_bos_token"].get<bool>();
    if (c.is_object() && c.contains("add_eos_token") && c["add_eos_token"].is_boolean())
      v->add_eos = c["add_eos_token"].get<bool>();
  }
  return v;
}

}  // namespace peft
