// Gemma 2: Gemma with sandwich norms (pre- and post-norms around attention and MLP), scores
// soft-capped (cap · tanh(s / cap)) before the mask and logits after the head, the score scale
// query_pre_attn_scalar^-½, and every other layer (the even ones) a sliding-window layer.
#include <fmt/format.h>

#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "model/archs/gemma_family.h"

namespace peft {

namespace {

const GemmaGeneration kGemma2{.arch = "gemma2",
                              .activation_key = "hidden_activation",
                              .default_theta = 10000.0,
                              .default_max_positions = 8192,
                              .sandwich_norms = true};

Result<ModelConfig> parse_gemma2(const Json& j, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(ModelConfig c, parse_gemma_family(j, where, kGemma2));
  PEFT_TRY(read_query_pre_attn_scalar(j, where, c));
  // Gemma2Config's defaults: 50 and 30; null turns a cap off.
  const bool attn_null = j.contains("attn_logit_softcapping") && j["attn_logit_softcapping"].is_null();
  const bool final_null = j.contains("final_logit_softcapping") && j["final_logit_softcapping"].is_null();
  PEFT_ASSIGN_OR_RETURN(double attn_cap, json_get_float_or(j, "attn_logit_softcapping", 50.0, where));
  PEFT_ASSIGN_OR_RETURN(double final_cap, json_get_float_or(j, "final_logit_softcapping", 30.0, where));
  c.attn_softcap = attn_null ? 0.f : float(attn_cap);
  c.logit_softcap = final_null ? 0.f : float(final_cap);
  if ((!attn_null && !(attn_cap > 0)) || (!final_null && !(final_cap > 0)))
    return Status::errorf("{}: soft-capping values must be positive (or null for none), found {} and {}", where,
                          attn_cap, final_cap);
  PEFT_TRY(read_sliding_layers(j, where, 2, c));
  PEFT_TRY(validate_config(c, where));
  return c;
}

Result<Json> read_gemma2_gguf(const GgufFile& f, Json c) {
  PEFT_ASSIGN_OR_RETURN(c, read_gemma_gguf(f, std::move(c), "hidden_activation"));
  // llama.cpp's defaults when a key is absent: caps 50 / 30, window 4096, every other layer.
  PEFT_ASSIGN_OR_RETURN(c["attn_logit_softcapping"], f.get_float_or("gemma2.attn_logit_softcapping", 50.0));
  PEFT_ASSIGN_OR_RETURN(c["final_logit_softcapping"], f.get_float_or("gemma2.final_logit_softcapping", 30.0));
  PEFT_TRY(read_gemma_gguf_windows(f, "gemma2", 4096, 2, c));
  PEFT_ASSIGN_OR_RETURN(int64_t layers, f.get_int("gemma2.block_count"));
  PEFT_ASSIGN_OR_RETURN(int64_t heads, f.get_int("gemma2.attention.head_count"));
  PEFT_ASSIGN_OR_RETURN(int64_t embd, f.get_int("gemma2.embedding_length"));
  const int64_t head_dim = c["head_dim"].get<int64_t>();
  // llama.cpp reads no scale: 1/√head_dim, or 1/√(C / H) for the 46-layer (27B) shape.
  c["query_pre_attn_scalar"] = layers == 46 && heads > 0 ? embd / heads : head_dim;
  return c;
}

Status write_gemma2_gguf(const ModelConfig& c, GgufWriter& w, const std::string& where) {
  if (c.attn_softcap <= 0.f || c.logit_softcap <= 0.f)
    return Status::errorf(
        "{}: cannot export to GGUF 'gemma2': llama.cpp always soft-caps scores and logits, this model does not", where);
  if (!llama_cpp_gemma_scale_matches(c, 46))
    return Status::errorf(
        "{}: cannot export to GGUF 'gemma2': llama.cpp scales scores by 1/√{} (it reads no query_pre_attn_scalar), "
        "this model by {}",
        where, c.n_layer == 46 ? c.n_embd / c.n_head : c.head_dim, c.attn_scale);
  PEFT_ASSIGN_OR_RETURN(int64_t period, sliding_period(c, "gemma2", where));
  PEFT_TRY(write_llama_family_gguf(
      "gemma2", {.input_norms = true, .output_norms = true, .act = c.block.act, .gemma = true}, c, w, where));
  w.set_f32("gemma2.attn_logit_softcapping", c.attn_softcap);
  w.set_f32("gemma2.final_logit_softcapping", c.logit_softcap);
  w.set_u32("gemma2.attention.sliding_window", uint32_t(c.sliding_window));
  if (period != 2) w.set_u32("gemma2.attention.sliding_window_pattern", uint32_t(period));
  return Status::ok();
}

const GgufArchDef kGemma2Gguf{"gemma2", false, false, read_gemma2_gguf, write_gemma2_gguf, "gemma2"};

}  // namespace

extern const ArchDef kGemma2Arch{"gemma2",
                                 parse_gemma2,
                                 gemma_names,
                                 kLlamaFamilyTargets,
                                 &kGemma2Gguf,
                                 gemma_reads({"query_pre_attn_scalar", "attn_logit_softcapping",
                                              "final_logit_softcapping", "sliding_window", "layer_types"})};

}  // namespace peft
