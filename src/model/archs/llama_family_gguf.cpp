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

Status check_rope(const GgufFile& f, const std::string& p, int64_t head_dim, bool partial_rotary) {
  if (const GgufValue* s = f.find(p + "rope.scaling.type"))
    if (!(s->type == GgufType::String && (s->s == "none" || s->s == "linear" || s->s == "longrope")))
      return Status::errorf("{}: rope scaling ({}rope.scaling.type = {}) is not supported yet", f.path(), p,
                            s->summary());
  PEFT_ASSIGN_OR_RETURN(int64_t rot, f.get_int_or(p + "rope.dimension_count", head_dim));
  if (rot != head_dim && !partial_rotary)
    return Status::errorf(
        "{}: {}rope.dimension_count = {} but the head size is {} (partial rotary embeddings are "
        "not supported for this architecture)",
        f.path(), p, rot, head_dim);
  return Status::ok();
}

Result<Json> float_list(const GgufFile& f, const std::string& tensor, int64_t want) {
  const GgufTensorInfo* t = f.find_tensor(tensor);
  PEFT_ASSIGN_OR_RETURN(OwnedTensor v, f.to_f32(*t));
  if (v.numel() != want)
    return Status::errorf("{}: tensor '{}' has {} values, the rotary dims need {}", f.path(), tensor, v.numel(), want);
  Json list = Json::array();
  for (int64_t i = 0; i < want; ++i) {
    if (!std::isfinite(v.f32()[i]) || v.f32()[i] <= 0.f)
      return Status::errorf("{}: tensor '{}' holds a non-positive or non-finite factor at {}", f.path(), tensor, i);
    list.push_back(double(v.f32()[i]));
  }
  return list;
}

}  // namespace

Status read_gguf_rope_factors(const GgufFile& f, const std::string& arch, int64_t rot_dim, Json& c) {
  const std::string p = arch + ".";
  const bool freqs = f.find_tensor("rope_freqs.weight"), longf = f.find_tensor("rope_factors_long.weight"),
             shortf = f.find_tensor("rope_factors_short.weight");
  if (freqs && (longf || shortf))
    return Status::errorf("{}: both rope_freqs and rope_factors_* tensors; llama.cpp would use rope_freqs", f.path());
  if (longf != shortf) return Status::errorf("{}: rope_factors_long and rope_factors_short come together", f.path());
  if (!freqs && !longf) return Status::ok();
  if (c.contains("rope_scaling"))
    return Status::errorf("{}: rope factor tensors with {}rope.scaling.type linear", f.path(), p);
  // Divisors of each frequency (θ_i / factor_i): transformers' longrope with equal lists is
  // exactly that (Llama 3.1's rope_freqs, whose low/high-frequency parameters the file no
  // longer holds, reads as such).
  PEFT_ASSIGN_OR_RETURN(Json long_factor,
                        float_list(f, freqs ? "rope_freqs.weight" : "rope_factors_long.weight", rot_dim / 2));
  PEFT_ASSIGN_OR_RETURN(Json short_factor,
                        float_list(f, freqs ? "rope_freqs.weight" : "rope_factors_short.weight", rot_dim / 2));
  PEFT_ASSIGN_OR_RETURN(double attn, f.get_float_or(p + "rope.scaling.attn_factor", 1.0));
  PEFT_ASSIGN_OR_RETURN(int64_t context, f.get_int(p + "context_length"));
  PEFT_ASSIGN_OR_RETURN(int64_t original, f.get_int_or(p + "rope.scaling.original_context_length", context));
  c["rope_scaling"] = Json{{"rope_type", "longrope"},
                           {"short_factor", short_factor},
                           {"long_factor", long_factor},
                           {"attention_factor", attn}};
  c["original_max_position_embeddings"] = original;
  return Status::ok();
}

Status write_gguf_rope_factors(const RopeSpec& rope, const std::string& arch, GgufWriter& w, const std::string& where) {
  const std::string p = arch + ".";
  const int64_t half = rope.rot_dim / 2;
  if (rope.scaling == RopeScaling::Llama3) {
    // rope_freqs: each frequency's divisor, plain θ_i over Llama 3's scaled one (the converter's).
    RopeSpec plain = RopeSpec::plain(rope.rot_dim, rope.theta, rope.layout);
    const size_t n = static_cast<size_t>(half);
    std::vector<float> base(n), scaled(n), factors(n);
    rope_inv_freq(plain, 1, base.data());
    rope_inv_freq(rope, 1, scaled.data());
    for (int64_t i = 0; i < half; ++i) factors[size_t(i)] = base[size_t(i)] / scaled[size_t(i)];
    w.add_tensor("rope_freqs.weight", GgmlType::F32, {half}, encode_ggml(factors.data(), half, GgmlType::F32));
    return Status::ok();
  }
  if (rope.scaling == RopeScaling::LongRope) {
    // llama.cpp picks the long factors once per context (n_ctx > original length), transformers
    // per forward (its longest position): the two agree while both sides pick the same list.
    w.set_string(p + "rope.scaling.type", "longrope");
    w.set_u32(p + "rope.scaling.original_context_length", uint32_t(rope.original_max_positions));
    w.set_f32(p + "rope.scaling.attn_factor", rope.attention_factor);
    w.add_tensor("rope_factors_long.weight", GgmlType::F32, {half},
                 encode_ggml(rope.long_factor.data(), half, GgmlType::F32));
    w.add_tensor("rope_factors_short.weight", GgmlType::F32, {half},
                 encode_ggml(rope.short_factor.data(), half, GgmlType::F32));
    return Status::ok();
  }
  if (rope.scaling == RopeScaling::Linear) {
    w.set_string(p + "rope.scaling.type", "linear");
    w.set_f32(p + "rope.scaling.factor", float(rope.factor));
    return Status::ok();
  }
  if (rope.scaling != RopeScaling::None)
    return Status::errorf("{}: cannot export to GGUF '{}' yet: rope scaling '{}' is not written", where, arch,
                          rope_scaling_name(rope.scaling));
  return Status::ok();
}

Result<Json> read_llama_family_gguf_keys(const GgufFile& f, Json c, bool partial_rotary) {
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
  PEFT_TRY(check_rope(f, p, key_len, partial_rotary));
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
  PEFT_ASSIGN_OR_RETURN(int64_t rot, f.get_int_or(p + "rope.dimension_count", key_len));
  if (rot <= 0 || rot > key_len || rot % 2 != 0)
    return Status::errorf("{}: {}rope.dimension_count = {} must be even and in [2, {}]", f.path(), p, rot, key_len);
  if (rot != key_len) c["partial_rotary_factor"] = double(rot) / double(key_len);
  PEFT_TRY(read_gguf_rope_factors(f, arch, rot, c));
  c["hidden_act"] = "silu";
  c["attention_bias"] = f.find_tensor("blk.0.attn_q.bias") != nullptr;
  c["mlp_bias"] = f.find_tensor("blk.0.ffn_up.bias") != nullptr;
  return c;
}

Result<Json> read_llama_family_gguf(const GgufFile& f, Json c) { return read_llama_family_gguf_keys(f, c, false); }

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
  const std::string p = arch + ".";
  write_gguf_common_hparams(w, arch, c);
  PEFT_TRY(write_gguf_rope_factors(b.rope, arch, w, where));
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
