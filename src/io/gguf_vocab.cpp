// tokenizer.ggml.* metadata <-> GgufVocab.
#include "io/gguf_vocab.h"

namespace peft {

namespace {

// An array metadata value whose elements all have type `elem` (nullptr when absent).
Result<const GgufValue*> typed_array(const GgufFile& f, const std::string& key, GgufType elem) {
  const GgufValue* v = f.find(key);
  if (!v) return static_cast<const GgufValue*>(nullptr);
  if (v->type != GgufType::Array || v->elem != elem)
    return Status::errorf("{}: metadata '{}' should be an array of {}, found {}", f.path(), key, gguf_type_name(elem),
                          v->summary());
  return v;
}

Status check_length(const GgufFile& f, const std::string& key, size_t got, size_t want) {
  if (got != want)
    return Status::errorf("{}: metadata '{}' has {} entries but the vocabulary has {} tokens", f.path(), key, got,
                          want);
  return Status::ok();
}

Result<int32_t> special_id(const GgufFile& f, const std::string& key, size_t n_tokens) {
  PEFT_ASSIGN_OR_RETURN(int64_t id, f.get_int_or(key, -1));
  return id >= 0 && uint64_t(id) < n_tokens ? int32_t(id) : int32_t(-1);
}

}  // namespace

Result<std::optional<GgufVocab>> read_gguf_vocab(const GgufFile& f) {
  if (!f.find("tokenizer.ggml.model")) return std::optional<GgufVocab>();
  GgufVocab v;
  PEFT_ASSIGN_OR_RETURN(v.model, f.get_string("tokenizer.ggml.model"));
  if (f.find("tokenizer.ggml.pre")) {
    PEFT_ASSIGN_OR_RETURN(v.pre, f.get_string("tokenizer.ggml.pre"));
  }

  PEFT_ASSIGN_OR_RETURN(const GgufValue* tokens, typed_array(f, "tokenizer.ggml.tokens", GgufType::String));
  if (!tokens) return Status::errorf("{}: metadata 'tokenizer.ggml.tokens' is missing", f.path());
  v.tokens.reserve(tokens->arr.size());
  for (const GgufValue& t : tokens->arr) v.tokens.push_back(t.s);
  const size_t n = v.tokens.size();

  PEFT_ASSIGN_OR_RETURN(const GgufValue* scores, typed_array(f, "tokenizer.ggml.scores", GgufType::F32));
  if (scores) {
    PEFT_TRY(check_length(f, "tokenizer.ggml.scores", scores->arr.size(), n));
    for (const GgufValue& s : scores->arr) v.scores.push_back(float(s.f));
  }
  PEFT_ASSIGN_OR_RETURN(const GgufValue* types, typed_array(f, "tokenizer.ggml.token_type", GgufType::I32));
  if (types) {
    PEFT_TRY(check_length(f, "tokenizer.ggml.token_type", types->arr.size(), n));
    for (const GgufValue& t : types->arr) v.token_types.push_back(int32_t(t.i));
  }
  PEFT_ASSIGN_OR_RETURN(const GgufValue* merges, typed_array(f, "tokenizer.ggml.merges", GgufType::String));
  if (merges)
    for (const GgufValue& m : merges->arr) v.merges.push_back(m.s);

  PEFT_ASSIGN_OR_RETURN(v.bos_id, special_id(f, "tokenizer.ggml.bos_token_id", n));
  PEFT_ASSIGN_OR_RETURN(v.eos_id, special_id(f, "tokenizer.ggml.eos_token_id", n));
  PEFT_ASSIGN_OR_RETURN(v.unk_id, special_id(f, "tokenizer.ggml.unknown_token_id", n));
  PEFT_ASSIGN_OR_RETURN(v.pad_id, special_id(f, "tokenizer.ggml.padding_token_id", n));
  if (f.find("tokenizer.ggml.add_bos_token")) {
    PEFT_ASSIGN_OR_RETURN(bool b, f.get_bool_or("tokenizer.ggml.add_bos_token", false));
    v.add_bos = b;
  }
  if (f.find("tokenizer.ggml.add_eos_token")) {
    PEFT_ASSIGN_OR_RETURN(bool b, f.get_bool_or("tokenizer.ggml.add_eos_token", false));
    v.add_eos = b;
  }
  if (f.find("tokenizer.ggml.add_space_prefix")) {
    PEFT_ASSIGN_OR_RETURN(bool b, f.get_bool_or("tokenizer.ggml.add_space_prefix", true));
    v.add_space_prefix = b;
  }
  if (f.find("tokenizer.ggml.remove_extra_whitespaces")) {
    PEFT_ASSIGN_OR_RETURN(bool b, f.get_bool_or("tokenizer.ggml.remove_extra_whitespaces", false));
    v.remove_extra_whitespaces = b;
  }
  return std::optional<GgufVocab>(std::move(v));
}

void write_gguf_vocab(GgufWriter& w, const GgufVocab& v) {
  w.set_string("tokenizer.ggml.model", v.model);
  if (!v.pre.empty()) w.set_string("tokenizer.ggml.pre", v.pre);
  w.set_strings("tokenizer.ggml.tokens", v.tokens);
  if (!v.scores.empty()) w.set_f32s("tokenizer.ggml.scores", v.scores);
  if (!v.token_types.empty()) w.set_i32s("tokenizer.ggml.token_type", v.token_types);
  // llama.cpp refuses a BPE vocabulary without the merges key, even an empty one.
  if (!v.merges.empty() || v.model == "gpt2") w.set_strings("tokenizer.ggml.merges", v.merges);
  // llama.cpp reads the ids as u32.
  auto id = [&](const char* key, int32_t value) {
    if (value >= 0) w.set_u32(key, uint32_t(value));
  };
  id("tokenizer.ggml.bos_token_id", v.bos_id);
  id("tokenizer.ggml.eos_token_id", v.eos_id);
  id("tokenizer.ggml.unknown_token_id", v.unk_id);
  id("tokenizer.ggml.padding_token_id", v.pad_id);
  if (v.add_bos) w.set_bool("tokenizer.ggml.add_bos_token", *v.add_bos);
  if (v.add_eos) w.set_bool("tokenizer.ggml.add_eos_token", *v.add_eos);
  if (v.add_space_prefix) w.set_bool("tokenizer.ggml.add_space_prefix", *v.add_space_prefix);
  if (v.remove_extra_whitespaces) w.set_bool("tokenizer.ggml.remove_extra_whitespaces", *v.remove_extra_whitespaces);
}

}  // namespace peft
