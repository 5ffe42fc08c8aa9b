// Phi-3 / 3.5 / 4-mini: the LLaMA layout with q, k and v fused in one projection (qkv_proj, rows
// [q | k | v]), gate and up fused too (gate_up_proj, rows [gate | up]), RoPE on the first
// partial_rotary_factor of each head, LongRoPE factors (long beyond
// original_max_position_embeddings), and a sliding window on every layer when set.
#include <fmt/format.h>

#include <cmath>

#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "model/archs/llama_family.h"
#include "model/gguf_names.h"

namespace peft {

namespace {

Result<ModelConfig> parse_phi3(const Json& j, const std::string& where) {
  // Phi3Config's defaults where LlamaConfig's differ; its original length is always set (4096).
  if (!j.is_object()) return Status::errorf("{}: expected a JSON object, found {}", where, j.type_name());
  Json flat = j;
  if (!j.contains("rms_norm_eps")) flat["rms_norm_eps"] = 1e-5;
  if (!j.contains("max_position_embeddings")) flat["max_position_embeddings"] = 4096;
  if (!j.contains("original_max_position_embeddings") || j["original_max_position_embeddings"].is_null())
    flat["original_max_position_embeddings"] = 4096;
  if (!j.contains("eos_token_id")) flat["eos_token_id"] = 32000;
  // Phi3Config renames the early LongRoPE spellings ("su", "yarn") to longrope.
  if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) {
    Json& s = flat["rope_scaling"];
    for (const char* key : {"type", "rope_type"})
      if (s.contains(key) && (s[key] == "su" || s[key] == "yarn")) s[key] = "longrope";
  }
  PEFT_ASSIGN_OR_RETURN(ModelConfig c, parse_llama_family(flat, where, "phi3", false));
  c.block.qkv = QkvLayout::Blocked;
  c.block.fused_gate_up = true;
  PEFT_ASSIGN_OR_RETURN(c.sliding_window, json_get_int_or(j, "sliding_window", 0, where));
  if (c.sliding_window < 0)
    return Status::errorf("{}: sliding_window must be positive, found {}", where, c.sliding_window);
  PEFT_TRY(validate_config(c, where));
  return c;
}

TensorNames phi3_names(const ModelConfig& c) {
  TensorNames n = llama_family_names(c);
  n.q_w = n.k_w = n.v_w = n.q_b = n.k_b = n.v_b = "";
  n.qkv_w = "model.layers.{}.self_attn.qkv_proj.weight";
  n.gate_w = "";
  n.up_w = "model.layers.{}.mlp.gate_up_proj.weight";
  return n;
}

// PEFT has no phi3 table (target_modules must be given there); these are the fused modules'
// names as users name them ("all-linear" expands to qkv_proj, o_proj, gate_up_proj, down_proj).
const DefaultTargets kPhi3Targets{.query_value = "qkv_proj",
                                  .scaled = "qkv_proj,down_proj",
                                  .scaled_input = "down_proj",
                                  .mlp = "gate_up_proj,down_proj",
                                  .mlp_output = "down_proj",
                                  .attention_inputs = "qkv_proj",
                                  .block_outputs = "o_proj,down_proj"};

Result<Json> read_phi3_gguf(const GgufFile& f, Json c) {
  PEFT_ASSIGN_OR_RETURN(c, read_llama_family_gguf_keys(f, std::move(c), true));
  PEFT_ASSIGN_OR_RETURN(int64_t context, f.get_int("phi3.context_length"));
  if (!c.contains("original_max_position_embeddings")) {
    PEFT_ASSIGN_OR_RETURN(c["original_max_position_embeddings"],
                          f.get_int_or("phi3.rope.scaling.original_context_length", context));
  }
  // Phi3Config holds LongRoPE as exactly {type, short_factor, long_factor}, its attention factor
  // always the default: the config written is one transformers loads (peft merge saves it).
  if (c.contains("rope_scaling") && c["rope_scaling"].value("rope_type", "") == "longrope") {
    const Json s = c["rope_scaling"];
    const double orig = c["original_max_position_embeddings"].get<double>();
    const double factor = double(context) / orig;
    const double expected = factor <= 1 ? 1.0 : std::sqrt(1 + std::log(factor) / std::log(orig));
    const double attn = s["attention_factor"].get<double>();
    if (!(std::fabs(attn - expected) <= 1e-5 * expected))
      return Status::errorf(
          "{}: phi3.rope.scaling.attn_factor = {} is not Phi-3's own √(1 + ln(context / original) / ln(original)) = "
          "{}, which transformers' Phi3Config cannot hold",
          f.path(), attn, expected);
    c["rope_scaling"] =
        Json{{"type", "longrope"}, {"short_factor", s["short_factor"]}, {"long_factor", s["long_factor"]}};
  }
  // llama.cpp turns the window off for phi3; the model (and transformers) keep it.
  PEFT_ASSIGN_OR_RETURN(int64_t window, f.get_int_or("phi3.attention.sliding_window", 0));
  if (window > 0) c["sliding_window"] = window;
  return c;
}

Status write_phi3_gguf(const ModelConfig& c, GgufWriter& w, const std::string& where) {
  const BlockSpec& b = c.block;
  if (b.qkv != QkvLayout::Blocked || !b.fused_gate_up || b.norm != NormKind::RmsNorm || b.act != Activation::Silu ||
      b.qk_norm != QkNorm::None || b.output_norms || b.rope.layout != RopeLayout::RotateHalf)
    return Status::errorf("{}: cannot export to GGUF 'phi3': expected Phi-3's block", where);
  if (c.q_dim() != c.n_embd)
    return Status::errorf("{}: cannot export to GGUF 'phi3': llama.cpp needs heads × head_dim = hidden size", where);
  if (c.sliding_window > 0 && c.sliding_window < c.n_ctx)
    fmt::print(stderr,
               "warning: {}: llama.cpp turns phi3's sliding window off: the GGUF model attends to the whole "
               "context, the same as this model up to {} tokens\n",
               where, c.sliding_window);
  write_gguf_common_hparams(w, "phi3", c);
  w.set_u32("phi3.attention.head_count_kv", uint32_t(c.n_head_kv));
  w.set_u32("phi3.vocab_size", uint32_t(c.n_vocab));
  w.set_u32("phi3.rope.dimension_count", uint32_t(b.rope.rot_dim));
  w.set_f32("phi3.rope.freq_base", b.rope.theta);
  w.set_f32("phi3.attention.layer_norm_rms_epsilon", c.norm_eps);
  w.set_u32("phi3.attention.sliding_window", uint32_t(c.sliding_window));
  PEFT_TRY(write_gguf_rope_factors(b.rope, "phi3", w, where));
  if (b.rope.scaling != RopeScaling::LongRope)  // the converter always writes it
    w.set_u32("phi3.rope.scaling.original_context_length",
              uint32_t(b.rope.original_max_positions ? b.rope.original_max_positions : c.n_ctx));
  return Status::ok();
}

// llama.cpp's phi3: attn_qkv and ffn_up as Hugging Face fuses them, NeoX RoPE on the first
// rope.dimension_count dims.
const GgufArchDef kPhi3Gguf{"phi3", false, false, read_phi3_gguf, write_phi3_gguf, "phi3"};

}  // namespace

extern const ArchDef kPhi3Arch{"phi3",       parse_phi3, phi3_names,
                               kPhi3Targets, &kPhi3Gguf, llama_family_reads({"sliding_window"})};

}  // namespace peft
