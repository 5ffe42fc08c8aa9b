// GGUF metadata → Hugging Face config.json, and load_gguf_model.
#include "model/gguf_model.h"

#include <cstring>

namespace peft {

namespace {

constexpr GgufArch kGgufArchs[] = {
    {"llama", "llama", /*permuted_qk=*/true, /*conv1d=*/false},
    {"qwen2", "qwen2", false, false},  // NEOX rope: the converter keeps HF's row order
    {"gpt2", "gpt2", false, true},
};

// output.weight absent, or a byte-for-byte copy of token_embd.weight (llama.cpp's GPT-2
// converter writes the tied head twice): the head is the embedding.
bool tied_head(const GgufFile& f) {
  const GgufTensorInfo* out = f.find_tensor("output.weight");
  if (!out) return true;
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  return emb && emb->type == out->type && emb->ne == out->ne && emb->nbytes == out->nbytes &&
         std::memcmp(emb->data, out->data, size_t(out->nbytes)) == 0;
}

Status check_rope(const GgufFile& f, const std::string& p, int64_t head_dim) {
  if (const GgufValue* s = f.find(p + "rope.scaling.type"))
    if (!(s->type == GgufType::String && s->s == "none"))
      return Status::errorf("{}: rope scaling ({}rope.scaling.type = {}) is not supported yet", f.path(), p, s->summary());
  if (f.find_tensor("rope_freqs.weight"))
    return Status::errorf("{}: tensor 'rope_freqs.weight' (LLaMA-3.1 rope scaling) is not supported yet", f.path());
  PEFT_ASSIGN_OR_RETURN(int64_t rot, f.get_int_or(p + "rope.dimension_count", head_dim));
  if (rot != head_dim)
    return Status::errorf("{}: {}rope.dimension_count = {} but the head size is {} (partial rotary embeddings are "
                          "not supported for this architecture)", f.path(), p, rot, head_dim);
  return Status::ok();
}

// llama / qwen2: the keys parse_llama_family reads.
Result<Json> llama_like_config(const GgufFile& f, const std::string& p, Json c) {
  PEFT_ASSIGN_OR_RETURN(int64_t embd, f.get_int(p + "embedding_length"));
  PEFT_ASSIGN_OR_RETURN(int64_t heads, f.get_int(p + "attention.head_count"));
  PEFT_ASSIGN_OR_RETURN(int64_t heads_kv, f.get_int_or(p + "attention.head_count_kv", heads));
  if (heads <= 0) return Status::errorf("{}: {}attention.head_count must be positive, found {}", f.path(), p, heads);
  PEFT_ASSIGN_OR_RETURN(int64_t key_len, f.get_int_or(p + "attention.key_length", embd / heads));
  PEFT_ASSIGN_OR_RETURN(int64_t value_len, f.get_int_or(p + "attention.value_length", key_len));
  if (value_len != key_len)
    return Status::errorf("{}: attention key_length {} != value_length {} is not supported", f.path(), key_len,
                          value_len);
  PEFT_TRY(check_rope(f, p, key_len));
  c["hidden_size"] = embd;
  c["num_attention_heads"] = heads;
  c["num_key_value_heads"] = heads_kv;
  if (key_len != embd / heads) c["head_dim"] = key_len;
  PEFT_ASSIGN_OR_RETURN(c["num_hidden_layers"], f.get_int(p + "block_count"));
  PEFT_ASSIGN_OR_RETURN(c["intermediate_size"], f.get_int(p + "feed_forward_length"));
  PEFT_ASSIGN_OR_RETURN(c["max_position_embeddings"], f.get_int(p + "context_length"));
  PEFT_ASSIGN_OR_RETURN(c["rms_norm_eps"], f.get_float(p + "attention.layer_norm_rms_epsilon"));
  PEFT_ASSIGN_OR_RETURN(c["rope_theta"], f.get_float_or(p + "rope.freq_base", 10000.0));
  c["hidden_act"] = "silu";
  c["attention_bias"] = f.find_tensor("blk.0.attn_q.bias") != nullptr;
  c["mlp_bias"] = f.find_tensor("blk.0.ffn_up.bias") != nullptr;
  return c;
}

Result<Json> gpt2_config(const GgufFile& f, const std::string& p, Json c) {
  PEFT_ASSIGN_OR_RETURN(c["n_embd"], f.get_int(p + "embedding_length"));
  PEFT_ASSIGN_OR_RETURN(c["n_layer"], f.get_int(p + "block_count"));
  PEFT_ASSIGN_OR_RETURN(c["n_head"], f.get_int(p + "attention.head_count"));
  PEFT_ASSIGN_OR_RETURN(c["n_inner"], f.get_int(p + "feed_forward_length"));
  PEFT_ASSIGN_OR_RETURN(c["n_positions"], f.get_int(p + "context_length"));
  PEFT_ASSIGN_OR_RETURN(c["layer_norm_epsilon"], f.get_float(p + "attention.layer_norm_epsilon"));
  c["activation_function"] = "gelu_new";  // ggml's GELU is the tanh approximation
  return c;
}

}  // namespace

const GgufArch* find_gguf_arch(const std::string& gguf_arch) {
  for (const GgufArch& a : kGgufArchs)
    if (gguf_arch == a.gguf_arch) return &a;
  return nullptr;
}

std::string supported_gguf_archs() {
  std::string s;
  for (const GgufArch& a : kGgufArchs) s += (s.empty() ? "" : ", ") + std::string(a.gguf_arch);
  return s;
}

Result<Json> gguf_hf_config(const GgufFile& f) {
  PEFT_ASSIGN_OR_RETURN(std::string arch_name, f.get_string("general.architecture"));
  const GgufArch* arch = find_gguf_arch(arch_name);
  if (!arch)
    return Status::errorf("{}: unsupported GGUF architecture '{}' (supported: {})", f.path(), arch_name,
                          supported_gguf_archs());
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  if (!emb || emb->ne.size() != 2)
    return Status::errorf("{}: tensor 'token_embd.weight' is missing or not a matrix", f.path());
  Json c = Json::object();
  c["model_type"] = arch->model_type;
  c["vocab_size"] = emb->ne[1];
  c["tie_word_embeddings"] = tied_head(f);
  PEFT_ASSIGN_OR_RETURN(int64_t bos, f.get_int_or("tokenizer.ggml.bos_token_id", -1));
  PEFT_ASSIGN_OR_RETURN(int64_t eos, f.get_int_or("tokenizer.ggml.eos_token_id", -1));
  if (bos >= 0) c["bos_token_id"] = bos;
  if (eos >= 0) c["eos_token_id"] = eos;
  const std::string p = arch_name + ".";
  if (std::string(arch->model_type) == "gpt2") return gpt2_config(f, p, std::move(c));
  return llama_like_config(f, p, std::move(c));
}

Result<std::unique_ptr<Model>> load_gguf_model(const std::string& path, const LoadOptions& options) {
  PEFT_ASSIGN_OR_RETURN(GgufFile file, GgufFile::open(path));
  auto shared = std::make_shared<const GgufFile>(std::move(file));
  PEFT_ASSIGN_OR_RETURN(Json config, gguf_hf_config(*shared));
  PEFT_ASSIGN_OR_RETURN(auto source, gguf_tensor_source(shared, config, options));
  return load_model_from(config, path + " (GGUF metadata)", std::move(source), path, options);
}

}  // namespace peft
