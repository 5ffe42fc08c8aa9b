// The audit of config.json keys no architecture may ignore (see math_keys.h).
#include "model/math_keys.h"

#include <algorithm>
#include <functional>

namespace peft {

namespace {

struct MathKey {
  const char* key;
  const char* what;  // what it changes, for the error
  // Whether the value leaves the math as a config without the key (absent and null always do).
  std::function<bool(const Json&)> neutral = [](const Json&) { return false; };
};

bool is_false(const Json& v) { return v.is_boolean() && !v.get<bool>(); }
bool is_one(const Json& v) { return v.is_number() && v.get<double>() == 1.0; }

const std::vector<MathKey>& math_keys() {
  static const std::vector<MathKey> keys = {
      {"rope_scaling", "the rotary position frequencies"},
      {"rope_parameters", "the rotary position frequencies (transformers 5.x)"},
      {"rope_theta", "the rotary position base"},
      {"rope_local_base_freq", "the rotary base of local-attention layers"},
      {"partial_rotary_factor", "how many head dimensions are rotated", is_one},
      {"rotary_pct", "how many head dimensions are rotated"},
      {"rotary_emb_base", "the rotary position base"},
      {"rotary_dim", "how many head dimensions are rotated"},
      {"head_dim", "the attention head size"},
      {"no_rope_layers", "which layers use rotary positions"},
      {"no_rope_layer_interval", "which layers use rotary positions"},
      {"layer_types", "which layers use sliding-window attention",
       [](const Json& v) {
         return v.is_array() &&
                std::all_of(v.begin(), v.end(), [](const Json& t) { return t.is_string() && t == "full_attention"; });
       }},
      {"sliding_window", "the attention window"},
      {"use_sliding_window", "the attention window", is_false},
      {"sliding_window_pattern", "which layers use sliding-window attention"},
      {"attn_logit_softcapping", "the attention scores (soft-capping)"},
      {"final_logit_softcapping", "the output logits (soft-capping)"},
      {"query_pre_attn_scalar", "the attention score scale"},
      {"attention_bias", "whether attention projections have biases", is_false},
      {"mlp_bias", "whether MLP projections have biases", is_false},
      {"qk_layernorm", "norms on queries and keys", is_false},
      {"use_qk_norm", "norms on queries and keys", is_false},
      {"scale_embedding", "the embedding scale", is_false},
      {"embedding_multiplier", "the embedding scale", is_one},
      {"residual_multiplier", "the residual scale", is_one},
      {"attention_multiplier", "the attention score scale"},
      {"logits_scaling", "the output logits scale", is_one},
      {"quantization_config", "how the weights are stored (a quantized checkpoint)"},
  };
  return keys;
}

}  // namespace

Status refuse_unread_math_keys(const ArchDef& arch, const Json& config, const std::string& where) {
  for (const MathKey& k : math_keys()) {
    if (!config.contains(k.key) || config[k.key].is_null() || k.neutral(config[k.key])) continue;
    if (std::find(arch.reads.begin(), arch.reads.end(), std::string(k.key)) != arch.reads.end()) continue;
    std::string value = config[k.key].dump();
    if (value.size() > 80) value = value.substr(0, 77) + "...";
    return Status::errorf(
        "{}: '{}' = {} changes {}, and model_type '{}' does not support it yet (refusing rather "
        "than computing something else)",
        where, k.key, value, k.what, arch.model_type);
  }
  return Status::ok();
}

Result<ModelConfig> parse_model_config(const ArchDef& arch, const Json& config, const std::string& where) {
  PEFT_TRY(refuse_unread_math_keys(arch, config, where));
  return arch.parse_config(config, where);
}

}  // namespace peft
