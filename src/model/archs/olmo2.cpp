// OLMo 2: the LLaMA layout with its two norms on each sublayer's output (x + norm(attn(x)),
// x + norm(mlp(x))) instead of its input, and RMSNorm over the whole q and k projections.
#include "model/archs/llama_family.h"

namespace peft {

namespace {

Result<ModelConfig> parse_olmo2(const Json& j, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(ModelConfig c, parse_llama_family(j, where, "olmo2", false));
  c.block.qk_norm = QkNorm::Whole;
  c.block.input_norms = false;
  c.block.output_norms = true;
  PEFT_TRY(validate_config(c, where));
  return c;
}

TensorNames olmo2_names(const ModelConfig& c) {
  TensorNames n = llama_family_names(c);
  n.attn_norm_w = n.ffn_norm_w = "";
  n.attn_out_norm_w = "model.layers.{}.post_attention_layernorm.weight";
  n.ffn_out_norm_w = "model.layers.{}.post_feedforward_layernorm.weight";
  n.q_norm_w = "model.layers.{}.self_attn.q_norm.weight";
  n.k_norm_w = "model.layers.{}.self_attn.k_norm.weight";
  return n;
}

Status write_olmo2_gguf(const ModelConfig& c, GgufWriter& w, const std::string& where) {
  if (c.q_dim() != c.n_embd)
    return Status::errorf("{}: cannot export to GGUF 'olmo2': llama.cpp needs heads × head_dim = hidden size", where);
  return write_llama_family_gguf("olmo2", {.qk_norm = QkNorm::Whole, .input_norms = false, .output_norms = true}, c, w,
                                 where);
}

// llama.cpp's olmo2: the llama-family keys, NeoX RoPE (rows as Hugging Face has them), the two
// output norms (post_attention_norm, post_ffw_norm).
const GgufArchDef kOlmo2Gguf{"olmo2", false, false, read_llama_family_gguf, write_olmo2_gguf, "olmo2"};

}  // namespace

extern const ArchDef kOlmo2Arch{"olmo2",     parse_olmo2,         olmo2_names, kLlamaFamilyTargets,
                                &kOlmo2Gguf, llama_family_reads()};

}  // namespace peft
