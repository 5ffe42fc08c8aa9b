// Gemma 3 (text, Gemma3ForCausalLM): Gemma 2's sandwich norms and score scale, per-head
// (1 + w) RMSNorms on q and k before RoPE, no attention soft-capping, five sliding-window
// layers to each global one (sliding_window_pattern 6), and a second RoPE for the sliding
// layers: base rope_local_base_freq, unscaled (rope_scaling applies to global layers only).
#include <fmt/format.h>

#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "model/archs/gemma_family.h"
#include "model/rope_config.h"

namespace peft {

namespace {

const GemmaGeneration kGemma3{.arch = "gemma3_text",
                              .activation_key = "hidden_activation",
                              .default_theta = 1000000.0,
                              .default_max_positions = 131072,
                              .sandwich_norms = true,
                              .scaled_inputs_embeds = false};

// The global and the local layers' RoPE configs as flat configs: transformers 4.x's rope_theta +
// rope_scaling and rope_local_base_freq, or 5.x's rope_parameters per layer type.
struct GemmaRopes {
  Json global, local;
};
Result<GemmaRopes> split_ropes(const Json& j, const std::string& where) {
  if (!j.is_object()) return Status::errorf("{}: expected a JSON object, found {}", where, j.type_name());
  GemmaRopes r{j, j};
  const bool has_parameters = j.contains("rope_parameters") && !j["rope_parameters"].is_null();
  if (has_parameters && j["rope_parameters"].is_object() && j["rope_parameters"].contains("full_attention")) {
    const Json& p = j["rope_parameters"];
    for (auto it = p.begin(); it != p.end(); ++it)
      if (it.key() != "full_attention" && it.key() != "sliding_attention")
        return Status::errorf("{}: rope_parameters key '{}' is not a layer type (full_attention, sliding_attention)",
                              where, it.key());
    r.global["rope_parameters"] = p["full_attention"];
    r.local["rope_parameters"] = p.value("sliding_attention", Json{{"rope_type", "default"}, {"rope_theta", 10000.0}});
    return r;
  }
  // 4.x: the local layers copy the config with rope_theta = rope_local_base_freq and default RoPE.
  PEFT_ASSIGN_OR_RETURN(double local_base, json_get_float_or(j, "rope_local_base_freq", 10000.0, where));
  r.local.erase("rope_scaling");
  r.local.erase("rope_parameters");
  r.local["rope_theta"] = local_base;
  return r;
}

Result<ModelConfig> parse_gemma3(const Json& j, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(GemmaRopes ropes, split_ropes(j, where));
  PEFT_ASSIGN_OR_RETURN(ModelConfig c, parse_gemma_family(ropes.global, where, kGemma3));
  c.block.qk_norm = QkNorm::PerHead;
  PEFT_TRY(read_query_pre_attn_scalar(j, where, c));
  PEFT_ASSIGN_OR_RETURN(bool bidirectional, json_get_bool_or(j, "use_bidirectional_attention", false, where));
  if (bidirectional)
    return Status::errorf("{}: use_bidirectional_attention=true (an encoder) is not supported for gemma3_text", where);
  // transformers 4.57 stores attn_logit_softcapping but never applies it (Gemma 3 dropped the
  // cap); the final cap applies when set.
  PEFT_ASSIGN_OR_RETURN(double final_cap, json_get_float_or(j, "final_logit_softcapping", 0.0, where));
  if (final_cap < 0) return Status::errorf("{}: final_logit_softcapping must be positive, found {}", where, final_cap);
  c.logit_softcap = float(final_cap);
  // transformers 4.57 takes the kwarg sliding_window_pattern (default 6), never the
  // _sliding_window_pattern its own save writes (layer_types, saved beside it, rules anyway).
  PEFT_ASSIGN_OR_RETURN(int64_t pattern, json_get_int_or(j, "sliding_window_pattern", 6, where));
  PEFT_TRY(read_sliding_layers(j, where, pattern, c));
  PEFT_ASSIGN_OR_RETURN(c.sliding_rope, read_rope_config(ropes.local, where, "rope_theta", 10000.0, c.n_ctx));
  c.has_sliding_rope = true;
  PEFT_TRY(validate_config(c, where));
  return c;
}

Result<Json> read_gemma3_gguf(const GgufFile& f, Json c) {
  PEFT_ASSIGN_OR_RETURN(c, read_gemma_gguf(f, std::move(c), "hidden_activation"));
  // llama.cpp: a window only when the key says so, every 6th layer global, local base 1e4.
  PEFT_TRY(read_gemma_gguf_windows(f, "gemma3", 0, 6, c));
  PEFT_ASSIGN_OR_RETURN(c["rope_local_base_freq"], f.get_float_or("gemma3.rope.freq_base_swa", 10000.0));
  PEFT_ASSIGN_OR_RETURN(double final_cap, f.get_float_or("gemma3.final_logit_softcapping", 0.0));
  if (final_cap > 0) c["final_logit_softcapping"] = final_cap;
  PEFT_ASSIGN_OR_RETURN(int64_t layers, f.get_int("gemma3.block_count"));
  PEFT_ASSIGN_OR_RETURN(int64_t heads, f.get_int("gemma3.attention.head_count"));
  PEFT_ASSIGN_OR_RETURN(int64_t embd, f.get_int("gemma3.embedding_length"));
  // llama.cpp reads no scale: 1/√head_dim, or 1/√(C / H) for the 62-layer (27B) shape.
  c["query_pre_attn_scalar"] = layers == 62 && heads > 0 ? embd / heads : c["head_dim"].get<int64_t>();
  return c;
}

Status write_gemma3_gguf(const ModelConfig& c, GgufWriter& w, const std::string& where) {
  if (!llama_cpp_gemma_scale_matches(c, 62))
    return Status::errorf(
        "{}: cannot export to GGUF 'gemma3': llama.cpp scales scores by 1/√{} (it reads no query_pre_attn_scalar), "
        "this model by {}",
        where, c.n_layer == 62 ? c.n_embd / c.n_head : c.head_dim, c.attn_scale);
  bool any_sliding = false;
  for (int64_t l = 0; l < c.n_layer; ++l) any_sliding = any_sliding || c.is_sliding(l);
  int64_t period = 6;
  if (any_sliding) {
    PEFT_ASSIGN_OR_RETURN(period, sliding_period(c, "gemma3", where));
  }
  const RopeSpec& local = c.sliding_rope;
  if (local.scaling != RopeScaling::None || local.rot_dim != c.head_dim)
    return Status::errorf("{}: cannot export to GGUF 'gemma3': llama.cpp's local layers use plain, full RoPE", where);
  PEFT_TRY(write_llama_family_gguf(
      "gemma3",
      {.qk_norm = QkNorm::PerHead, .input_norms = true, .output_norms = true, .act = c.block.act, .gemma = true}, c, w,
      where));
  if (any_sliding) w.set_u32("gemma3.attention.sliding_window", uint32_t(c.sliding_window));
  if (any_sliding && period != 6) w.set_u32("gemma3.attention.sliding_window_pattern", uint32_t(period));
  w.set_f32("gemma3.rope.freq_base_swa", local.theta);
  if (c.logit_softcap > 0.f) w.set_f32("gemma3.final_logit_softcapping", c.logit_softcap);
  return Status::ok();
}

const GgufArchDef kGemma3Gguf{"gemma3", false, false, read_gemma3_gguf, write_gemma3_gguf, "gemma3_text"};

}  // namespace

extern const ArchDef kGemma3Arch{
    "gemma3_text",
    parse_gemma3,
    gemma_names,
    kLlamaFamilyTargets,
    &kGemma3Gguf,
    gemma_reads({"query_pre_attn_scalar", "attn_logit_softcapping", "final_logit_softcapping", "sliding_window",
                 "sliding_window_pattern", "layer_types", "rope_local_base_freq", "use_bidirectional_attention"})};

}  // namespace peft
