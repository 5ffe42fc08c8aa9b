// GPT-J: one LayerNorm feeding parallel attention + MLP, interleaved partial RoPE, biased head.
#include "model/arch.h"

namespace peft {

namespace {

Result<ModelConfig> parse_gptj(const Json& j, const std::string& where) {
  ModelConfig c;
  c.arch = "gptj";
  PEFT_ASSIGN_OR_RETURN(c.n_vocab, json_get_int(j, "vocab_size", where));
  PEFT_ASSIGN_OR_RETURN(c.n_embd, json_get_int(j, "n_embd", where));
  PEFT_ASSIGN_OR_RETURN(c.n_layer, json_get_int(j, "n_layer", where));
  PEFT_ASSIGN_OR_RETURN(c.n_head, json_get_int(j, "n_head", where));
  c.n_head_kv = c.n_head;
  PEFT_ASSIGN_OR_RETURN(c.n_ff, json_get_int_or(j, "n_inner", 4 * c.n_embd, where));
  PEFT_ASSIGN_OR_RETURN(c.n_ctx, json_get_int_or(j, "n_positions", 2048, where));
  PEFT_ASSIGN_OR_RETURN(double eps, json_get_float_or(j, "layer_norm_epsilon", 1e-5, where));
  c.norm_eps = float(eps);
  PEFT_ASSIGN_OR_RETURN(int64_t rotary_dim, json_get_int_or(j, "rotary_dim", 0, where));
  PEFT_ASSIGN_OR_RETURN(std::string act, json_get_string_or(j, "activation_function", "gelu_new", where));
  auto activation = activation_from_hf_name(act);
  if (!activation) return Status::errorf("{}: unknown activation_function '{}'", where, act);
  PEFT_ASSIGN_OR_RETURN(bool tied, json_get_bool_or(j, "tie_word_embeddings", false, where));
  PEFT_ASSIGN_OR_RETURN(int64_t bos, json_get_int_or(j, "bos_token_id", 50256, where));
  PEFT_ASSIGN_OR_RETURN(int64_t eos, json_get_int_or(j, "eos_token_id", 50256, where));
  c.bos_id = int32_t(bos);
  c.eos_id = int32_t(eos);

  BlockSpec& b = c.block;
  b.norm = NormKind::LayerNorm;
  b.norm_bias = true;
  b.position = PositionKind::Rope;
  b.rope.rot_dim = rotary_dim;  // 0 → the whole head
  b.rope.theta = 10000.0f;
  b.rope.layout = RopeLayout::Interleaved;
  b.act = *activation;
  b.gated_mlp = false;
  b.qkv = QkvLayout::Separate;
  b.parallel_residual = true;
  b.shared_block_norm = true;
  b.mlp_bias = true;
  b.tied_embeddings = tied;
  b.lm_head_bias = !tied;
  PEFT_TRY(validate_config(c, where));
  return c;
}

TensorNames gptj_names(const ModelConfig& c) {
  TensorNames n;
  const std::string layer = "transformer.h.{}.";
  n.tok_embd = "transformer.wte.weight";
  n.out_norm_w = "transformer.ln_f.weight";
  n.out_norm_b = "transformer.ln_f.bias";
  if (!c.block.tied_embeddings) {
    n.lm_head_w = "lm_head.weight";
    n.lm_head_b = "lm_head.bias";
  }
  n.attn_norm_w = weight_of(layer + "ln_1");
  n.attn_norm_b = bias_of(layer + "ln_1");
  n.q_w = weight_of(layer + "attn.q_proj");
  n.k_w = weight_of(layer + "attn.k_proj");
  n.v_w = weight_of(layer + "attn.v_proj");
  n.o_w = weight_of(layer + "attn.out_proj");
  n.up_w = weight_of(layer + "mlp.fc_in");
  n.up_b = bias_of(layer + "mlp.fc_in");
  n.down_w = weight_of(layer + "mlp.fc_out");
  n.down_b = bias_of(layer + "mlp.fc_out");
  return n;
}

}  // namespace

extern const ArchDef kGptjArch{"gptj",
                               parse_gptj,
                               gptj_names,
                               {.query_value = "q_proj,v_proj",
                                .scaled = "q_proj,v_proj,fc_out",
                                .scaled_input = "fc_out",
                                .mlp = "fc_in,fc_out",
                                .mlp_output = "fc_out",
                                .attention_inputs = "q_proj,v_proj,k_proj",
                                .block_outputs = "out_proj,fc_out"},
                               nullptr,
                               {"rotary_dim"}};

}  // namespace peft
