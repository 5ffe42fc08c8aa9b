// LLaMA family (LLaMA 1/2, TinyLlama, SmolLM, llama2.c conversions): RMSNorm, RoPE, SwiGLU, GQA.
#include "model/archs/llama_family.h"
#include "model/rope_config.h"

namespace peft {

Result<ModelConfig> parse_llama_family(const Json& j, const std::string& where, const std::string& arch,
                                       bool default_qkv_bias) {
  ModelConfig c;
  c.arch = arch;
  PEFT_ASSIGN_OR_RETURN(c.n_vocab, json_get_int(j, "vocab_size", where));
  PEFT_ASSIGN_OR_RETURN(c.n_embd, json_get_int(j, "hidden_size", where));
  PEFT_ASSIGN_OR_RETURN(c.n_layer, json_get_int(j, "num_hidden_layers", where));
  PEFT_ASSIGN_OR_RETURN(c.n_head, json_get_int(j, "num_attention_heads", where));
  PEFT_ASSIGN_OR_RETURN(c.n_head_kv, json_get_int_or(j, "num_key_value_heads", c.n_head, where));
  PEFT_ASSIGN_OR_RETURN(c.n_ff, json_get_int(j, "intermediate_size", where));
  PEFT_ASSIGN_OR_RETURN(c.n_ctx, json_get_int_or(j, "max_position_embeddings", 2048, where));
  PEFT_ASSIGN_OR_RETURN(c.head_dim, json_get_int_or(j, "head_dim", 0, where));
  PEFT_ASSIGN_OR_RETURN(double eps, json_get_float_or(j, "rms_norm_eps", 1e-6, where));
  c.norm_eps = float(eps);
  PEFT_ASSIGN_OR_RETURN(RopeSpec rope, read_rope_config(j, where, "rope_theta", 10000.0, c.n_ctx));
  PEFT_ASSIGN_OR_RETURN(std::string act, json_get_string_or(j, "hidden_act", "silu", where));
  auto activation = activation_from_hf_name(act);
  if (!activation) return Status::errorf("{}: unknown hidden_act '{}'", where, act);
  PEFT_ASSIGN_OR_RETURN(bool tied, json_get_bool_or(j, "tie_word_embeddings", false, where));
  PEFT_ASSIGN_OR_RETURN(bool attn_bias, json_get_bool_or(j, "attention_bias", default_qkv_bias, where));
  PEFT_ASSIGN_OR_RETURN(int64_t bos, json_get_int_or(j, "bos_token_id", 1, where));
  // Llama 3.1+, Gemma 3: a list of end tokens; the first is the one appended in training.
  const bool eos_list = j.contains("eos_token_id") && j["eos_token_id"].is_array() && !j["eos_token_id"].empty();
  if (eos_list && !j["eos_token_id"][0].is_number_integer())
    return Status::errorf("{}: eos_token_id must be an integer or a list of integers", where);
  PEFT_ASSIGN_OR_RETURN(int64_t eos, eos_list ? Result<int64_t>(j["eos_token_id"][0].get<int64_t>())
                                              : json_get_int_or(j, "eos_token_id", 2, where));
  c.bos_id = int32_t(bos);
  c.eos_id = int32_t(eos);

  BlockSpec& b = c.block;
  b.norm = NormKind::RmsNorm;
  b.position = PositionKind::Rope;
  b.rope = rope;  // rotate-half, every head dim unless partial_rotary_factor says otherwise
  b.act = *activation;
  b.gated_mlp = true;
  b.qkv = QkvLayout::Separate;
  b.qkv_bias = attn_bias;
  b.o_bias = attn_bias && !default_qkv_bias;  // Qwen2 biases q/k/v only; LLaMA's flag covers o too
  b.tied_embeddings = tied;
  return c;
}

TensorNames llama_family_names(const ModelConfig& c) {
  TensorNames n;
  n.tok_embd = "model.embed_tokens.weight";
  n.out_norm_w = "model.norm.weight";
  n.lm_head_w = c.block.tied_embeddings ? "" : "lm_head.weight";
  n.attn_norm_w = "model.layers.{}.input_layernorm.weight";
  n.ffn_norm_w = "model.layers.{}.post_attention_layernorm.weight";
  const std::string attn = "model.layers.{}.self_attn.", mlp = "model.layers.{}.mlp.";
  n.q_w = weight_of(attn + "q_proj");
  n.k_w = weight_of(attn + "k_proj");
  n.v_w = weight_of(attn + "v_proj");
  n.o_w = weight_of(attn + "o_proj");
  if (c.block.qkv_bias) {
    n.q_b = bias_of(attn + "q_proj");
    n.k_b = bias_of(attn + "k_proj");
    n.v_b = bias_of(attn + "v_proj");
  }
  if (c.block.o_bias) n.o_b = bias_of(attn + "o_proj");
  n.gate_w = weight_of(mlp + "gate_proj");
  n.up_w = weight_of(mlp + "up_proj");
  n.down_w = weight_of(mlp + "down_proj");
  return n;
}

extern const DefaultTargets kLlamaFamilyTargets{.query_value = "q_proj,v_proj",
                                                .scaled = "k_proj,v_proj,down_proj",
                                                .scaled_input = "down_proj",
                                                .mlp = "gate_proj,up_proj,down_proj",
                                                .mlp_output = "down_proj",
                                                .attention_inputs = "q_proj,v_proj,k_proj",
                                                .block_outputs = "o_proj,down_proj"};

std::vector<std::string> llama_family_reads(std::vector<std::string> more) {
  std::vector<std::string> keys = {"rope_theta", "rope_scaling",  "rope_parameters", "partial_rotary_factor",
                                   "head_dim",   "attention_bias"};
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

namespace {
Result<ModelConfig> parse_llama(const Json& j, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(ModelConfig c, parse_llama_family(j, where, "llama", false));
  PEFT_TRY(validate_config(c, where));
  return c;
}
}  // namespace

extern const ArchDef kLlamaArch{"llama",     parse_llama,         llama_family_names, kLlamaFamilyTargets,
                                &kLlamaGguf, llama_family_reads()};

}  // namespace peft
