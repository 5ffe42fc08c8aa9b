// OPT: learned positions (offset 2), ReLU MLP, pre- or post-LayerNorm, optional embedding projections.
#include "model/arch.h"

namespace peft {

namespace {

Result<ModelConfig> parse_opt(const Json& j, const std::string& where) {
  ModelConfig c;
  c.arch = "opt";
  PEFT_ASSIGN_OR_RETURN(c.n_vocab, json_get_int(j, "vocab_size", where));
  PEFT_ASSIGN_OR_RETURN(c.n_embd, json_get_int(j, "hidden_size", where));
  PEFT_ASSIGN_OR_RETURN(c.n_layer, json_get_int(j, "num_hidden_layers", where));
  PEFT_ASSIGN_OR_RETURN(c.n_head, json_get_int(j, "num_attention_heads", where));
  c.n_head_kv = c.n_head;
  PEFT_ASSIGN_OR_RETURN(c.n_ff, json_get_int(j, "ffn_dim", where));
  PEFT_ASSIGN_OR_RETURN(c.n_ctx, json_get_int_or(j, "max_position_embeddings", 2048, where));
  PEFT_ASSIGN_OR_RETURN(int64_t proj_dim, json_get_int_or(j, "word_embed_proj_dim", c.n_embd, where));
  if (proj_dim <= 0) return Status::errorf("{}: word_embed_proj_dim must be positive", where);
  c.n_embd_in = proj_dim == c.n_embd ? 0 : proj_dim;
  PEFT_ASSIGN_OR_RETURN(bool pre_ln, json_get_bool_or(j, "do_layer_norm_before", true, where));
  PEFT_ASSIGN_OR_RETURN(bool remove_final, json_get_bool_or(j, "_remove_final_layer_norm", false, where));
  PEFT_ASSIGN_OR_RETURN(bool affine, json_get_bool_or(j, "layer_norm_elementwise_affine", true, where));
  if (!affine) return Status::errorf("{}: layer_norm_elementwise_affine=false is not supported yet", where);
  PEFT_ASSIGN_OR_RETURN(bool bias, json_get_bool_or(j, "enable_bias", true, where));
  PEFT_ASSIGN_OR_RETURN(std::string act, json_get_string_or(j, "activation_function", "relu", where));
  auto activation = activation_from_hf_name(act);
  if (!activation) return Status::errorf("{}: unknown activation_function '{}'", where, act);
  PEFT_ASSIGN_OR_RETURN(bool tied, json_get_bool_or(j, "tie_word_embeddings", true, where));
  PEFT_ASSIGN_OR_RETURN(int64_t bos, json_get_int_or(j, "bos_token_id", 2, where));
  PEFT_ASSIGN_OR_RETURN(int64_t eos, json_get_int_or(j, "eos_token_id", 2, where));
  c.bos_id = int32_t(bos);
  c.eos_id = int32_t(eos);
  c.norm_eps = 1e-5f;  // nn.LayerNorm's default; OPT's config has no field for it
  c.final_norm = pre_ln && !remove_final;

  BlockSpec& b = c.block;
  b.norm = NormKind::LayerNorm;
  b.norm_bias = true;
  b.post_norm = !pre_ln;
  b.position = PositionKind::Learned;
  b.learned_pos_offset = 2;
  b.act = *activation;
  b.gated_mlp = false;
  b.qkv = QkvLayout::Separate;
  b.qkv_bias = b.o_bias = b.mlp_bias = bias;
  b.tied_embeddings = tied;
  PEFT_TRY(validate_config(c, where));
  return c;
}

TensorNames opt_names(const ModelConfig& c) {
  TensorNames n;
  const std::string dec = "model.decoder.", layer = "model.decoder.layers.{}.";
  n.tok_embd = dec + "embed_tokens.weight";
  n.pos_embd = dec + "embed_positions.weight";
  if (c.n_embd_in) {
    n.project_in_w = dec + "project_in.weight";
    n.project_out_w = dec + "project_out.weight";
  }
  if (c.final_norm) {
    n.out_norm_w = dec + "final_layer_norm.weight";
    n.out_norm_b = dec + "final_layer_norm.bias";
  }
  n.lm_head_w = c.block.tied_embeddings ? "" : "lm_head.weight";
  n.attn_norm_w = weight_of(layer + "self_attn_layer_norm");
  n.attn_norm_b = bias_of(layer + "self_attn_layer_norm");
  n.ffn_norm_w = weight_of(layer + "final_layer_norm");
  n.ffn_norm_b = bias_of(layer + "final_layer_norm");
  const bool b = c.block.qkv_bias;
  n.q_w = weight_of(layer + "self_attn.q_proj");
  n.k_w = weight_of(layer + "self_attn.k_proj");
  n.v_w = weight_of(layer + "self_attn.v_proj");
  n.o_w = weight_of(layer + "self_attn.out_proj");
  n.up_w = weight_of(layer + "fc1");
  n.down_w = weight_of(layer + "fc2");
  if (b) {
    n.q_b = bias_of(layer + "self_attn.q_proj");
    n.k_b = bias_of(layer + "self_attn.k_proj");
    n.v_b = bias_of(layer + "self_attn.v_proj");
    n.o_b = bias_of(layer + "self_attn.out_proj");
    n.up_b = bias_of(layer + "fc1");
    n.down_b = bias_of(layer + "fc2");
  }
  return n;
}

}  // namespace

extern const ArchDef kOptArch{"opt",
                              parse_opt,
                              opt_names,
                              {.query_value = "q_proj,v_proj",
                               .scaled = "q_proj,k_proj,fc2",
                               .scaled_input = "fc2",
                               .mlp = "fc1,fc2",
                               .mlp_output = "fc2",
                               .attention_inputs = "q_proj,v_proj,k_proj",
                               .block_outputs = "out_proj,fc2"}};

}  // namespace peft
