// BLOOM: ALiBi positions, LayerNorm after the word embeddings, fused per-head QKV, tied head.
#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "model/arch.h"
#include "model/gguf_names.h"

namespace peft {

namespace {

Result<ModelConfig> parse_bloom(const Json& j, const std::string& where) {
  ModelConfig c;
  c.arch = "bloom";
  PEFT_ASSIGN_OR_RETURN(c.n_vocab, json_get_int(j, "vocab_size", where));
  // Early BLOOM configs say n_embed; transformers maps it to hidden_size.
  const char* hidden_key = j.contains("hidden_size") || !j.contains("n_embed") ? "hidden_size" : "n_embed";
  PEFT_ASSIGN_OR_RETURN(c.n_embd, json_get_int(j, hidden_key, where));
  PEFT_ASSIGN_OR_RETURN(c.n_layer, json_get_int(j, "n_layer", where));
  PEFT_ASSIGN_OR_RETURN(c.n_head, json_get_int(j, "n_head", where));
  c.n_head_kv = c.n_head;
  c.n_ff = 4 * c.n_embd;  // BloomMLP is fixed at 4·hidden
  PEFT_ASSIGN_OR_RETURN(c.n_ctx, json_get_int_or(j, "seq_length", 2048, where));
  PEFT_ASSIGN_OR_RETURN(double eps, json_get_float_or(j, "layer_norm_epsilon", 1e-5, where));
  c.norm_eps = float(eps);
  PEFT_ASSIGN_OR_RETURN(bool post_ln_residual,
                        json_get_bool_or(j, "apply_residual_connection_post_layernorm", false, where));
  if (post_ln_residual)
    return Status::errorf("{}: apply_residual_connection_post_layernorm=true is not supported yet", where);
  PEFT_ASSIGN_OR_RETURN(bool tied, json_get_bool_or(j, "tie_word_embeddings", true, where));
  PEFT_ASSIGN_OR_RETURN(int64_t bos, json_get_int_or(j, "bos_token_id", 1, where));
  PEFT_ASSIGN_OR_RETURN(int64_t eos, json_get_int_or(j, "eos_token_id", 2, where));
  c.bos_id = int32_t(bos);
  c.eos_id = int32_t(eos);
  c.embd_norm = true;

  BlockSpec& b = c.block;
  b.norm = NormKind::LayerNorm;
  b.norm_bias = true;
  b.position = PositionKind::Alibi;
  b.act = Activation::GeluTanh;  // bloom_gelu_forward is the tanh approximation
  b.gated_mlp = false;
  b.qkv = QkvLayout::PerHead;
  b.qkv_bias = b.o_bias = b.mlp_bias = true;
  b.tied_embeddings = tied;
  PEFT_TRY(validate_config(c, where));
  return c;
}

TensorNames bloom_names(const ModelConfig& c) {
  TensorNames n;
  const std::string layer = "transformer.h.{}.";
  n.tok_embd = "transformer.word_embeddings.weight";
  n.embd_norm_w = "transformer.word_embeddings_layernorm.weight";
  n.embd_norm_b = "transformer.word_embeddings_layernorm.bias";
  n.out_norm_w = "transformer.ln_f.weight";
  n.out_norm_b = "transformer.ln_f.bias";
  n.lm_head_w = c.block.tied_embeddings ? "" : "lm_head.weight";
  n.attn_norm_w = weight_of(layer + "input_layernorm");
  n.attn_norm_b = bias_of(layer + "input_layernorm");
  n.ffn_norm_w = weight_of(layer + "post_attention_layernorm");
  n.ffn_norm_b = bias_of(layer + "post_attention_layernorm");
  n.qkv_w = weight_of(layer + "self_attention.query_key_value");
  n.qkv_b = bias_of(layer + "self_attention.query_key_value");
  n.o_w = weight_of(layer + "self_attention.dense");
  n.o_b = bias_of(layer + "self_attention.dense");
  n.up_w = weight_of(layer + "mlp.dense_h_to_4h");
  n.up_b = bias_of(layer + "mlp.dense_h_to_4h");
  n.down_w = weight_of(layer + "mlp.dense_4h_to_h");
  n.down_b = bias_of(layer + "mlp.dense_4h_to_h");
  return n;
}

Result<Json> read_bloom_gguf(const GgufFile& f, Json c) {
  const std::string p = "bloom.";
  PEFT_ASSIGN_OR_RETURN(int64_t embd, f.get_int(p + "embedding_length"));
  PEFT_ASSIGN_OR_RETURN(int64_t ff, f.get_int_or(p + "feed_forward_length", 4 * embd));
  if (ff != 4 * embd)
    return Status::errorf("{}: {}feed_forward_length {} is not 4 x {} (BLOOM's MLP width)", f.path(), p, ff, embd);
  PEFT_ASSIGN_OR_RETURN(int64_t heads, f.get_int(p + "attention.head_count"));
  PEFT_ASSIGN_OR_RETURN(int64_t heads_kv, f.get_int_or(p + "attention.head_count_kv", heads));
  if (heads_kv != heads)
    return Status::errorf("{}: {}attention.head_count_kv {} differs from head_count {} (BLOOM has no GQA)", f.path(), p,
                          heads_kv, heads);
  c["hidden_size"] = embd;
  c["n_head"] = heads;
  PEFT_ASSIGN_OR_RETURN(c["n_layer"], f.get_int(p + "block_count"));
  PEFT_ASSIGN_OR_RETURN(c["seq_length"], f.get_int_or(p + "context_length", 2048));
  PEFT_ASSIGN_OR_RETURN(c["layer_norm_epsilon"], f.get_float(p + "attention.layer_norm_epsilon"));
  return c;
}

Status write_bloom_gguf(const ModelConfig& c, GgufWriter& w, const std::string& where) {
  if (c.block.position != PositionKind::Alibi || c.block.qkv != QkvLayout::PerHead || !c.embd_norm)
    return Status::errorf(
        "{}: cannot export to GGUF 'bloom': expected ALiBi, a per-head fused query_key_value and "
        "the embedding LayerNorm",
        where);
  const std::string p = "bloom.";
  write_gguf_common_hparams(w, "bloom", c);
  w.set_u32(p + "attention.head_count_kv", uint32_t(c.n_head_kv));
  w.set_f32(p + "attention.layer_norm_epsilon", c.norm_eps);
  return Status::ok();
}

// The converter stores query_key_value as [q | k | v] (llama.cpp splits it by blocks).
const GgufArchDef kBloomGguf{"bloom", false, true, read_bloom_gguf, write_bloom_gguf, "bloom"};

}  // namespace

extern const ArchDef kBloomArch{"bloom",
                                parse_bloom,
                                bloom_names,
                                {.query_value = "query_key_value",
                                 .scaled = "query_key_value,mlp.dense_4h_to_h",
                                 .scaled_input = "mlp.dense_4h_to_h",
                                 .mlp = "dense_h_to_4h,dense_4h_to_h",
                                 .mlp_output = "dense_4h_to_h",
                                 .attention_inputs = "query_key_value",
                                 .block_outputs = "self_attention.dense,dense_4h_to_h"},
                                &kBloomGguf};

}  // namespace peft
