// Qwen3: the LLaMA layout with an RMSNorm on each head of q and k before RoPE, no q/k/v biases
// and an explicit head_dim (128 for every size, whatever hidden_size / heads gives).
#include "model/archs/llama_family.h"

namespace peft {

namespace {

Result<ModelConfig> parse_qwen3(const Json& j, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(ModelConfig c, parse_llama_family(j, where, "qwen3", false));
  c.block.qk_norm = QkNorm::PerHead;
  PEFT_ASSIGN_OR_RETURN(bool sliding, json_get_bool_or(j, "use_sliding_window", false, where));
  if (sliding) return Status::errorf("{}: use_sliding_window=true is not supported yet for qwen3", where);
  PEFT_TRY(validate_config(c, where));
  return c;
}

TensorNames qwen3_names(const ModelConfig& c) {
  TensorNames n = llama_family_names(c);
  n.q_norm_w = "model.layers.{}.self_attn.q_norm.weight";
  n.k_norm_w = "model.layers.{}.self_attn.k_norm.weight";
  return n;
}

}  // namespace

extern const ArchDef kQwen3Arch{"qwen3",     parse_qwen3,
                                qwen3_names, kLlamaFamilyTargets,
                                &kQwen3Gguf, llama_family_reads({"use_sliding_window", "sliding_window"})};

}  // namespace peft
