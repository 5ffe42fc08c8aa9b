// GPT-NeoX (Pythia): fused per-head QKV, partial rotate-half RoPE, parallel residual, LayerNorm.
#include <cmath>

#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "model/arch.h"
#include "model/gguf_names.h"

namespace peft {

namespace {

Result<ModelConfig> parse_gpt_neox(const Json& j, const std::string& where) {
  ModelConfig c;
  c.arch = "gpt_neox";
  PEFT_ASSIGN_OR_RETURN(c.n_vocab, json_get_int(j, "vocab_size", where));
  PEFT_ASSIGN_OR_RETURN(c.n_embd, json_get_int(j, "hidden_size", where));
  PEFT_ASSIGN_OR_RETURN(c.n_layer, json_get_int(j, "num_hidden_layers", where));
  PEFT_ASSIGN_OR_RETURN(c.n_head, json_get_int(j, "num_attention_heads", where));
  c.n_head_kv = c.n_head;
  PEFT_ASSIGN_OR_RETURN(c.n_ff, json_get_int(j, "intermediate_size", where));
  PEFT_ASSIGN_OR_RETURN(c.n_ctx, json_get_int_or(j, "max_position_embeddings", 2048, where));
  PEFT_ASSIGN_OR_RETURN(double eps, json_get_float_or(j, "layer_norm_eps", 1e-5, where));
  c.norm_eps = float(eps);
  PEFT_ASSIGN_OR_RETURN(double pct, json_get_float_or(j, "rotary_pct", 0.25, where));
  PEFT_ASSIGN_OR_RETURN(double base, json_get_float_or(j, "rotary_emb_base", 10000.0, where));
  // transformers 4.57 writes the same two numbers again as partial_rotary_factor and
  // rope_theta (and computes with rotary_pct / rotary_emb_base): they must agree.
  PEFT_ASSIGN_OR_RETURN(double pct_copy, json_get_float_or(j, "partial_rotary_factor", pct, where));
  PEFT_ASSIGN_OR_RETURN(double base_copy, json_get_float_or(j, "rope_theta", base, where));
  if (pct_copy != pct || base_copy != base)
    return Status::errorf(
        "{}: partial_rotary_factor/rope_theta ({}, {}) disagree with rotary_pct/rotary_emb_base ({}, {})", where,
        pct_copy, base_copy, pct, base);
  PEFT_ASSIGN_OR_RETURN(bool attn_bias, json_get_bool_or(j, "attention_bias", true, where));
  if (!attn_bias) return Status::errorf("{}: attention_bias=false is not supported for gpt_neox", where);
  PEFT_ASSIGN_OR_RETURN(std::string act, json_get_string_or(j, "hidden_act", "gelu", where));
  auto activation = activation_from_hf_name(act);
  if (!activation) return Status::errorf("{}: unknown hidden_act '{}'", where, act);
  PEFT_ASSIGN_OR_RETURN(bool parallel, json_get_bool_or(j, "use_parallel_residual", true, where));
  PEFT_ASSIGN_OR_RETURN(bool tied, json_get_bool_or(j, "tie_word_embeddings", false, where));
  PEFT_ASSIGN_OR_RETURN(int64_t bos, json_get_int_or(j, "bos_token_id", 0, where));
  PEFT_ASSIGN_OR_RETURN(int64_t eos, json_get_int_or(j, "eos_token_id", 2, where));
  c.bos_id = int32_t(bos);
  c.eos_id = int32_t(eos);
  if (c.n_head <= 0 || c.n_embd % c.n_head != 0)
    return Status::errorf("{}: hidden_size {} is not divisible by num_attention_heads {}", where, c.n_embd, c.n_head);
  const int64_t head_dim = c.n_embd / c.n_head;

  BlockSpec& b = c.block;
  b.norm = NormKind::LayerNorm;
  b.norm_bias = true;
  b.position = PositionKind::Rope;
  // transformers: rotary_ndims = int(head_size * rotary_pct)
  b.rope.rot_dim = int64_t(double(head_dim) * pct);
  b.rope.theta = float(base);
  b.rope.layout = RopeLayout::RotateHalf;
  if (b.rope.rot_dim <= 0) return Status::errorf("{}: rotary_pct {} leaves no rotary dimensions", where, pct);
  b.act = *activation;
  b.gated_mlp = false;
  b.qkv = QkvLayout::PerHead;
  b.parallel_residual = parallel;
  b.qkv_bias = b.o_bias = b.mlp_bias = true;
  b.tied_embeddings = tied;
  PEFT_TRY(validate_config(c, where));
  return c;
}

TensorNames gpt_neox_names(const ModelConfig& c) {
  TensorNames n;
  const std::string layer = "gpt_neox.layers.{}.";
  n.tok_embd = "gpt_neox.embed_in.weight";
  n.out_norm_w = "gpt_neox.final_layer_norm.weight";
  n.out_norm_b = "gpt_neox.final_layer_norm.bias";
  n.lm_head_w = c.block.tied_embeddings ? "" : "embed_out.weight";
  n.attn_norm_w = weight_of(layer + "input_layernorm");
  n.attn_norm_b = bias_of(layer + "input_layernorm");
  n.ffn_norm_w = weight_of(layer + "post_attention_layernorm");
  n.ffn_norm_b = bias_of(layer + "post_attention_layernorm");
  n.qkv_w = weight_of(layer + "attention.query_key_value");
  n.qkv_b = bias_of(layer + "attention.query_key_value");
  n.o_w = weight_of(layer + "attention.dense");
  n.o_b = bias_of(layer + "attention.dense");
  n.up_w = weight_of(layer + "mlp.dense_h_to_4h");
  n.up_b = bias_of(layer + "mlp.dense_h_to_4h");
  n.down_w = weight_of(layer + "mlp.dense_4h_to_h");
  n.down_b = bias_of(layer + "mlp.dense_4h_to_h");
  return n;
}

Result<Json> read_gpt_neox_gguf(const GgufFile& f, Json c) {
  const std::string p = "gptneox.";
  PEFT_ASSIGN_OR_RETURN(int64_t embd, f.get_int(p + "embedding_length"));
  PEFT_ASSIGN_OR_RETURN(int64_t heads, f.get_int(p + "attention.head_count"));
  if (heads <= 0 || embd % heads != 0)
    return Status::errorf("{}: {}embedding_length {} is not divisible by {}attention.head_count {}", f.path(), p, embd,
                          p, heads);
  const int64_t head_dim = embd / heads;
  PEFT_ASSIGN_OR_RETURN(int64_t rot, f.get_int_or(p + "rope.dimension_count", head_dim));
  if (rot <= 0 || rot > head_dim)
    return Status::errorf("{}: {}rope.dimension_count {} is outside (0, {}]", f.path(), p, rot, head_dim);
  c["hidden_size"] = embd;
  c["num_attention_heads"] = heads;
  // transformers takes rotary_ndims = int(head_dim · rotary_pct): a fraction that floors back to rot.
  const double pct = double(rot) / double(head_dim);
  c["rotary_pct"] = int64_t(double(head_dim) * pct) == rot ? pct : (double(rot) + 0.5) / double(head_dim);
  PEFT_ASSIGN_OR_RETURN(c["num_hidden_layers"], f.get_int(p + "block_count"));
  PEFT_ASSIGN_OR_RETURN(c["intermediate_size"], f.get_int(p + "feed_forward_length"));
  PEFT_ASSIGN_OR_RETURN(c["max_position_embeddings"], f.get_int(p + "context_length"));
  PEFT_ASSIGN_OR_RETURN(c["layer_norm_eps"], f.get_float(p + "attention.layer_norm_epsilon"));
  PEFT_ASSIGN_OR_RETURN(c["rotary_emb_base"], f.get_float_or(p + "rope.freq_base", 10000.0));
  PEFT_ASSIGN_OR_RETURN(c["use_parallel_residual"], f.get_bool_or(p + "use_parallel_residual", true));
  c["hidden_act"] = "gelu";  // GPT-NeoX's own; llama.cpp computes it with its tanh approximation
  return c;
}

Status write_gpt_neox_gguf(const ModelConfig& c, GgufWriter& w, const std::string& where) {
  const BlockSpec& b = c.block;
  if (b.qkv != QkvLayout::PerHead || b.gated_mlp || b.position != PositionKind::Rope ||
      (b.act != Activation::GeluExact && b.act != Activation::GeluTanh))
    return Status::errorf(
        "{}: cannot export to GGUF 'gptneox': expected a per-head fused query_key_value, RoPE and "
        "a GELU MLP",
        where);
  const std::string p = "gptneox.";
  write_gguf_common_hparams(w, "gptneox", c);
  w.set_u32(p + "rope.dimension_count", uint32_t(b.rope.rot_dim));
  w.set_f32(p + "rope.freq_base", b.rope.theta);
  w.set_bool(p + "use_parallel_residual", b.parallel_residual);
  w.set_f32(p + "attention.layer_norm_epsilon", c.norm_eps);
  return Status::ok();
}

// The converter stores query_key_value as [q | k | v] (llama.cpp splits it by blocks).
const GgufArchDef kGptNeoxGguf{"gptneox", false, true, read_gpt_neox_gguf, write_gpt_neox_gguf, "gpt_neox"};

}  // namespace

extern const ArchDef kGptNeoxArch{
    "gpt_neox",
    parse_gpt_neox,
    gpt_neox_names,
    {.query_value = "query_key_value",
     .scaled = "query_key_value,dense_4h_to_h",
     .scaled_input = "dense_4h_to_h",
     .mlp = "dense_h_to_4h,dense_4h_to_h",
     .mlp_output = "dense_4h_to_h",
     .attention_inputs = "query_key_value",
     .block_outputs = "attention.dense,dense_4h_to_h"},
    &kGptNeoxGguf,
    {"rotary_pct", "rotary_emb_base", "partial_rotary_factor", "rope_theta", "attention_bias"}};

}  // namespace peft
