// LLaMA-layout architectures in GGUF (llama.cpp's llama and qwen2): metadata keys both ways.
#include <fmt/format.h>

#include <cmath>

#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "model/archs/llama_family.h"
#include "model/gguf_names.h"
#include "model/rope_config.h"

namespace peft {

namespace {

Status check_rope(const GgufFile& f, const std::string& p, int64_t head_dim) {
  if (const GgufValue* s = f.find(p + "rope.scaling.type"))
    if (!(s->type == GgufType::String && (s->s == "none" || s->s == "linear")))
      return Status::errorf("{}: rope scaling ({}rope.scaling.type = {}) is not supported yet", f.path(), p,
                            s->summary());
  if (f.find_tensor("rope_freqs.weight"))
    return Status::errorf("{}: tensor 'rope_freqs.weight' (LLaMA-3.1 rope scaling) is not supported yet", f.path());
  PEFT_ASSIGN_OR_RETURN(int64_t rot, f.get_int_or(p + "rope.dimension_count", head_dim));
  if (rot != head_dim)
    return Status::errorf(
        "{}: {}rope.dimension_count = {} but the head size is {} (partial rotary embeddings are "
        "not supported for this architecture)",
        f.path(), p, rot, head_dim);
  return Status::ok();
}

}  // namespace

Result<Json> read_llama_family_gguf(const GgufFile& f, Json c) {
  PEFT_ASSIGN_OR_RETURN(std::string arch, f.get_string("general.architecture"));
  const std::string p = arch + ".";
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
  PEFT_ASSIGN_OR_RETURN(std::string scaling, f.get_string_or(p + "rope.scaling.type", "none"));
  if (scaling == "linear") {
    PEFT_ASSIGN_OR_RETURN(double factor, f.get_float(p + "rope.scaling.factor"));
    c["rope_scaling"] = Json{{"rope_type", "linear"}, {"factor", factor}};
  }
  c["hidden_act"] = "silu";
  c["attention_bias"] = f.find_tensor("blk.0.attn_q.bias") != nullptr;
  c["mlp_bias"] = f.find_tensor("blk.0.ffn_up.bias") != nullptr;
  return c;
}

Status write_llama_family_gguf(const std::string& arch, const LlamaFamilyGguf& shape, const ModelConfig& c,
                               GgufWriter& w, const std::string& where) {
  const BlockSpec& b = c.block;
  if (b.position != PositionKind::Rope || b.rope.layout != RopeLayout::RotateHalf ||
      (b.rope.rot_dim != 0 && b.rope.rot_dim != c.head_dim))
    return Status::errorf("{}: cannot export to GGUF '{}': expected full rotate-half rotary embeddings", where, arch);
  if (b.qkv != QkvLayout::Separate || !b.gated_mlp || b.norm != NormKind::RmsNorm)
    return Status::errorf("{}: cannot export to GGUF '{}': expected separate q/k/v, a gated MLP and RMSNorm", where,
                          arch);
  for (int64_t l = 0; l < c.n_layer; ++l)
    if (!c.uses_rope(l) && !shape.nope_layers)
      return Status::errorf("{}: cannot export to GGUF '{}': layer {} has no rotary positions", where, arch, l);
  if (b.qk_norm != shape.qk_norm || b.input_norms != shape.input_norms || b.output_norms != shape.output_norms)
    return Status::errorf(
        "{}: cannot export to GGUF '{}': its q/k norms or norm placement differ from that architecture", where, arch);
  if (b.act != shape.act)
    return Status::errorf("{}: cannot export to GGUF '{}': llama.cpp computes another MLP activation", where, arch);
  if (!shape.gemma && (c.embd_scale != 0.f || c.attn_softcap != 0.f || c.logit_softcap != 0.f ||
                       !c.sliding_layers.empty() || c.has_sliding_rope))
    return Status::errorf(
        "{}: cannot export to GGUF '{}': embedding scale, soft-capping or per-layer windows are not that "
        "architecture's",
        where, arch);
  if (shape.gemma && c.embd_scale != float(std::sqrt(double(c.n_embd))))
    return Status::errorf("{}: cannot export to GGUF '{}': llama.cpp scales embeddings by √C", where, arch);
  if (!shape.gemma && c.sliding_window > 0 && c.sliding_window < c.n_ctx)
    fmt::print(stderr,
               "warning: {}: llama.cpp's '{}' architecture has no sliding window: the GGUF model attends "
               "to the whole context, the same as this model up to {} tokens\n",
               where, arch, c.sliding_window);
  // llama.cpp holds linear scaling as two keys; Llama 3's needs a rope_freqs tensor (not
  // written yet), the others keys this writer does not produce.
  if (b.rope.scaling != RopeScaling::None && b.rope.scaling != RopeScaling::Linear)
    return Status::errorf("{}: cannot export to GGUF '{}' yet: rope scaling '{}' is not written", where, arch,
                          rope_scaling_name(b.rope.scaling));
  const std::string p = arch + ".";
  write_gguf_common_hparams(w, arch, c);
  if (b.rope.scaling == RopeScaling::Linear) {
    w.set_string(p + "rope.scaling.type", "linear");
    w.set_f32(p + "rope.scaling.factor", float(b.rope.factor));
  }
  w.set_u32(p + "attention.head_count_kv", uint32_t(c.n_head_kv));
  w.set_u32(p + "vocab_size", uint32_t(c.n_vocab));
  w.set_u32(p + "rope.dimension_count", uint32_t(c.head_dim));
  w.set_f32(p + "rope.freq_base", b.rope.theta);
  w.set_f32(p + "attention.layer_norm_rms_epsilon", c.norm_eps);
  if (c.head_dim * c.n_head != c.n_embd) {
    w.set_u32(p + "attention.key_length", uint32_t(c.head_dim));
    w.set_u32(p + "attention.value_length", uint32_t(c.head_dim));
  }
  return Status::ok();
}

namespace {
Status write_llama(const ModelConfig& c, GgufWriter& w, const std::string& where) {
  return write_llama_family_gguf("llama", {}, c, w, where);
}
Status write_qwen2(const ModelConfig& c, GgufWriter& w, const std::string& where) {
  return write_llama_family_gguf("qwen2", {}, c, w, where);
}
Status write_qwen3(const ModelConfig& c, GgufWriter& w, const std::string& where) {
  return write_llama_family_gguf("qwen3", {.qk_norm = QkNorm::PerHead}, c, w, where);
}
}  // namespace

// llama.cpp's llama rotates interleaved pairs, so its converter permutes q/k rows; qwen2
// rotates halves (NEOX) and keeps Hugging Face's order.
extern const GgufArchDef kLlamaGguf{"llama", true, false, read_llama_family_gguf, write_llama, "llama"};
extern const GgufArchDef kQwen2Gguf{"qwen2", false, false, read_llama_family_gguf, write_qwen2, "qwen2"};
extern const GgufArchDef kQwen3Gguf{"qwen3", false, false, read_llama_family_gguf, write_qwen3, "qwen3"};

}  // namespace peft
