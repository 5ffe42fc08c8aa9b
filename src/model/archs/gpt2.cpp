// GPT-2: LayerNorm, learned positions, fused Conv1D c_attn, GELU (tanh) MLP, tied head.
#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "model/arch.h"
#include "model/gguf_names.h"

namespace peft {

namespace {

Result<ModelConfig> parse_gpt2(const Json& j, const std::string& where) {
  ModelConfig c;
  c.arch = "gpt2";
  PEFT_ASSIGN_OR_RETURN(c.n_vocab, json_get_int(j, "vocab_size", where));
  PEFT_ASSIGN_OR_RETURN(c.n_embd, json_get_int(j, "n_embd", where));
  PEFT_ASSIGN_OR_RETURN(c.n_layer, json_get_int(j, "n_layer", where));
  PEFT_ASSIGN_OR_RETURN(c.n_head, json_get_int(j, "n_head", where));
  c.n_head_kv = c.n_head;
  PEFT_ASSIGN_OR_RETURN(c.n_ff, json_get_int_or(j, "n_inner", 4 * c.n_embd, where));
  PEFT_ASSIGN_OR_RETURN(c.n_ctx, json_get_int_or(j, "n_positions", 1024, where));
  PEFT_ASSIGN_OR_RETURN(double eps, json_get_float_or(j, "layer_norm_epsilon", 1e-5, where));
  c.norm_eps = float(eps);
  PEFT_ASSIGN_OR_RETURN(std::string act, json_get_string_or(j, "activation_function", "gelu_new", where));
  auto activation = activation_from_hf_name(act);
  if (!activation) return Status::errorf("{}: unknown activation_function '{}'", where, act);
  PEFT_ASSIGN_OR_RETURN(bool scale, json_get_bool_or(j, "scale_attn_weights", true, where));
  PEFT_ASSIGN_OR_RETURN(bool by_layer, json_get_bool_or(j, "scale_attn_by_inverse_layer_idx", false, where));
  if (by_layer) return Status::errorf("{}: scale_attn_by_inverse_layer_idx=true is not supported yet", where);
  PEFT_ASSIGN_OR_RETURN(bool tied, json_get_bool_or(j, "tie_word_embeddings", true, where));
  PEFT_ASSIGN_OR_RETURN(int64_t bos, json_get_int_or(j, "bos_token_id", 50256, where));
  PEFT_ASSIGN_OR_RETURN(int64_t eos, json_get_int_or(j, "eos_token_id", 50256, where));
  c.bos_id = int32_t(bos);
  c.eos_id = int32_t(eos);
  if (!scale) c.attn_scale = 1.0f;

  BlockSpec& b = c.block;
  b.norm = NormKind::LayerNorm;
  b.norm_bias = true;
  b.position = PositionKind::Learned;
  b.act = *activation;
  b.gated_mlp = false;
  b.qkv = QkvLayout::Blocked;
  b.qkv_bias = true;
  b.o_bias = true;
  b.mlp_bias = true;
  b.tied_embeddings = tied;
  PEFT_TRY(validate_config(c, where));
  return c;
}

TensorNames gpt2_names(const ModelConfig& c) {
  TensorNames n;
  n.conv1d = true;
  n.tok_embd = "transformer.wte.weight";
  n.pos_embd = "transformer.wpe.weight";
  n.out_norm_w = "transformer.ln_f.weight";
  n.out_norm_b = "transformer.ln_f.bias";
  n.lm_head_w = c.block.tied_embeddings ? "" : "lm_head.weight";
  n.attn_norm_w = "transformer.h.{}.ln_1.weight";
  n.attn_norm_b = "transformer.h.{}.ln_1.bias";
  n.ffn_norm_w = "transformer.h.{}.ln_2.weight";
  n.ffn_norm_b = "transformer.h.{}.ln_2.bias";
  n.qkv_w = "transformer.h.{}.attn.c_attn.weight";
  n.qkv_b = "transformer.h.{}.attn.c_attn.bias";
  n.o_w = "transformer.h.{}.attn.c_proj.weight";
  n.o_b = "transformer.h.{}.attn.c_proj.bias";
  n.up_w = "transformer.h.{}.mlp.c_fc.weight";
  n.up_b = "transformer.h.{}.mlp.c_fc.bias";
  n.down_w = "transformer.h.{}.mlp.c_proj.weight";
  n.down_b = "transformer.h.{}.mlp.c_proj.bias";
  return n;
}

Result<Json> read_gpt2_gguf(const GgufFile& f, Json c) {
  const std::string p = "gpt2.";
  PEFT_ASSIGN_OR_RETURN(c["n_embd"], f.get_int(p + "embedding_length"));
  PEFT_ASSIGN_OR_RETURN(c["n_layer"], f.get_int(p + "block_count"));
  PEFT_ASSIGN_OR_RETURN(c["n_head"], f.get_int(p + "attention.head_count"));
  PEFT_ASSIGN_OR_RETURN(c["n_inner"], f.get_int(p + "feed_forward_length"));
  PEFT_ASSIGN_OR_RETURN(c["n_positions"], f.get_int(p + "context_length"));
  PEFT_ASSIGN_OR_RETURN(c["layer_norm_epsilon"], f.get_float(p + "attention.layer_norm_epsilon"));
  c["activation_function"] = "gelu_new";  // ggml's GELU is the tanh approximation
  return c;
}

Status write_gpt2_gguf(const ModelConfig& c, GgufWriter& w, const std::string& where) {
  const BlockSpec& b = c.block;
  if (b.position != PositionKind::Learned || b.qkv != QkvLayout::Blocked || b.gated_mlp ||
      b.act != Activation::GeluTanh)
    return Status::errorf(
        "{}: cannot export to GGUF 'gpt2': expected learned positions, a fused c_attn and a "
        "tanh-GELU MLP",
        where);
  const std::string p = "gpt2.";
  write_gguf_common_hparams(w, "gpt2", c);
  w.set_f32(p + "attention.layer_norm_epsilon", c.norm_eps);
  return Status::ok();
}

const GgufArchDef kGpt2Gguf{"gpt2", false, false, read_gpt2_gguf, write_gpt2_gguf, "gpt2"};

}  // namespace

extern const ArchDef kGpt2Arch{"gpt2",
                               parse_gpt2,
                               gpt2_names,
                               {.query_value = "c_attn",
                                .scaled = "c_attn,mlp.c_proj",
                                .scaled_input = "mlp.c_proj",
                                .mlp = "c_fc,mlp.c_proj",
                                .mlp_output = "mlp.c_proj",
                                .attention_inputs = "c_attn",
                                .block_outputs = "attn.c_proj,mlp.c_proj"},
                               &kGpt2Gguf};

}  // namespace peft
