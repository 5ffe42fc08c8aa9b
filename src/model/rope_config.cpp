// Reads rope_theta / rope_scaling / rope_parameters / partial_rotary_factor into a RopeSpec,
// with transformers' defaults (modeling_rope_utils.py) and nothing silently ignored.
#include "model/rope_config.h"

#include <cmath>
#include <set>

namespace peft {

namespace {

struct ScalingType {
  const char* name;
  RopeScaling scaling;
  std::set<std::string> keys;  // every key transformers reads for it (besides the type)
};

const std::vector<ScalingType>& scaling_types() {
  static const std::vector<ScalingType> types = {
      {"default", RopeScaling::None, {}},
      {"linear", RopeScaling::Linear, {"factor"}},
      {"dynamic", RopeScaling::Dynamic, {"factor", "original_max_position_embeddings"}},
      {"llama3",
       RopeScaling::Llama3,
       {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}},
      {"longrope",
       RopeScaling::LongRope,
       {"short_factor", "long_factor", "factor", "attention_factor", "original_max_position_embeddings"}},
      {"yarn",
       RopeScaling::Yarn,
       {"factor", "attention_factor", "beta_fast", "beta_slow", "mscale", "mscale_all_dim",
        "original_max_position_embeddings", "truncate"}},
  };
  return types;
}

Result<std::vector<float>> float_list(const Json& obj, const std::string& key, const std::string& where) {
  if (!obj.contains(key) || !obj[key].is_array()) return Status::errorf("{}: {} must be a list of numbers", where, key);
  std::vector<float> out;
  for (const Json& v : obj[key]) {
    if (!v.is_number() || !(v.get<double>() > 0))
      return Status::errorf("{}: {} must hold positive numbers, found {}", where, key, v.dump());
    out.push_back(v.get<float>());
  }
  return out;
}

// YaRN's default attention factor: 0.1·mscale·ln(factor) + 1 (1 when factor <= 1).
double yarn_mscale(double factor, double mscale) { return factor <= 1 ? 1.0 : 0.1 * mscale * std::log(factor) + 1.0; }

// The scaling object (rope_scaling, or rope_parameters without its theta/partial keys).
Status read_scaling(const Json& config, const Json& s, const std::string& where, int64_t max_positions,
                    RopeSpec& rope) {
  std::string type = "default";
  if (s.contains("rope_type")) {
    PEFT_ASSIGN_OR_RETURN(type, json_get_string(s, "rope_type", where));
  } else if (s.contains("type")) {
    PEFT_ASSIGN_OR_RETURN(type, json_get_string(s, "type", where));
  }
  const ScalingType* found = nullptr;
  for (const ScalingType& t : scaling_types())
    if (type == t.name) found = &t;
  if (!found)
    return Status::errorf(
        "{}: rope type '{}' is not supported (known: default, linear, dynamic, llama3, longrope, yarn)", where, type);
  for (auto it = s.begin(); it != s.end(); ++it) {
    const std::string& k = it.key();
    if (k == "rope_type" || k == "type" || found->keys.count(k)) continue;
    return Status::errorf(
        "{}: rope scaling key '{}' is not understood for rope type '{}' (it would change the "
        "positions; refusing rather than ignoring it)",
        where, k, type);
  }
  rope.scaling = found->scaling;
  const bool needs_factor =
      rope.scaling == RopeScaling::Linear || rope.scaling == RopeScaling::Dynamic || rope.scaling == RopeScaling::Yarn;
  if (needs_factor && !s.contains("factor")) return Status::errorf("{}: {} rope scaling needs 'factor'", where, type);
  PEFT_ASSIGN_OR_RETURN(rope.factor, json_get_float_or(s, "factor", 1.0, where));
  if (!(rope.factor >= 1.0) && rope.scaling != RopeScaling::None && rope.scaling != RopeScaling::LongRope)
    return Status::errorf("{}: rope scaling factor must be >= 1, found {}", where, rope.factor);
  // The pre-training length: inside the scaling object, else (LongRoPE, transformers 4.x) the
  // config's own key, else max_position_embeddings.
  PEFT_ASSIGN_OR_RETURN(int64_t top_original,
                        json_get_int_or(config, "original_max_position_embeddings", max_positions, where));
  PEFT_ASSIGN_OR_RETURN(rope.original_max_positions,
                        json_get_int_or(s, "original_max_position_embeddings", top_original, where));
  if (rope.original_max_positions <= 0)
    return Status::errorf("{}: original_max_position_embeddings must be positive", where);
  rope.max_positions = max_positions;
  switch (rope.scaling) {
    case RopeScaling::None:
    case RopeScaling::Linear:
    case RopeScaling::Dynamic:
      break;
    case RopeScaling::Llama3: {
      for (const char* k : {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"})
        if (!s.contains(k)) return Status::errorf("{}: llama3 rope scaling needs '{}'", where, k);
      PEFT_ASSIGN_OR_RETURN(rope.low_freq_factor, json_get_float(s, "low_freq_factor", where));
      PEFT_ASSIGN_OR_RETURN(rope.high_freq_factor, json_get_float(s, "high_freq_factor", where));
      if (!(rope.low_freq_factor > 0 && rope.high_freq_factor > rope.low_freq_factor))
        return Status::errorf("{}: llama3 rope scaling needs 0 < low_freq_factor < high_freq_factor, found {} and {}",
                              where, rope.low_freq_factor, rope.high_freq_factor);
      break;
    }
    case RopeScaling::LongRope: {
      PEFT_ASSIGN_OR_RETURN(rope.short_factor, float_list(s, "short_factor", where));
      PEFT_ASSIGN_OR_RETURN(rope.long_factor, float_list(s, "long_factor", where));
      // transformers 4.57: with a config-level original length, factor = max / original.
      double factor = rope.factor;
      if (config.contains("original_max_position_embeddings") || s.contains("original_max_position_embeddings"))
        factor = double(max_positions) / double(rope.original_max_positions);
      double attention = 0;
      PEFT_ASSIGN_OR_RETURN(attention, json_get_float_or(s, "attention_factor", 0.0, where));
      if (!s.contains("attention_factor") || s["attention_factor"].is_null())
        attention =
            factor <= 1.0 ? 1.0 : std::sqrt(1 + std::log(factor) / std::log(double(rope.original_max_positions)));
      rope.attention_factor = float(attention);
      break;
    }
    case RopeScaling::Yarn: {
      PEFT_ASSIGN_OR_RETURN(double beta_fast, json_get_float_or(s, "beta_fast", 32.0, where));
      PEFT_ASSIGN_OR_RETURN(double beta_slow, json_get_float_or(s, "beta_slow", 1.0, where));
      rope.beta_fast = beta_fast > 0 ? beta_fast : 32.0;  // transformers: `or 32`
      rope.beta_slow = beta_slow > 0 ? beta_slow : 1.0;
      PEFT_ASSIGN_OR_RETURN(rope.yarn_truncate, json_get_bool_or(s, "truncate", true, where));
      double attention = 0;
      if (s.contains("attention_factor") && !s["attention_factor"].is_null()) {
        PEFT_ASSIGN_OR_RETURN(attention, json_get_float(s, "attention_factor", where));
      } else {
        PEFT_ASSIGN_OR_RETURN(double mscale, json_get_float_or(s, "mscale", 0.0, where));
        PEFT_ASSIGN_OR_RETURN(double mscale_all, json_get_float_or(s, "mscale_all_dim", 0.0, where));
        attention = mscale != 0 && mscale_all != 0
                        ? yarn_mscale(rope.factor, mscale) / yarn_mscale(rope.factor, mscale_all)
                        : yarn_mscale(rope.factor, 1.0);
      }
      rope.attention_factor = float(attention);
      break;
    }
  }
  return Status::ok();
}

}  // namespace

const char* rope_scaling_name(RopeScaling scaling) {
  for (const ScalingType& t : scaling_types())
    if (t.scaling == scaling) return t.name;
  return "?";
}

Result<RopeSpec> read_rope_config(const Json& config, const std::string& where, const std::string& theta_key,
                                  double default_theta, int64_t max_positions) {
  RopeSpec rope;
  const bool has_scaling = config.contains("rope_scaling") && !config["rope_scaling"].is_null();
  const bool has_parameters = config.contains("rope_parameters") && !config["rope_parameters"].is_null();
  if (has_scaling && has_parameters)
    return Status::errorf("{}: both rope_scaling (transformers 4.x) and rope_parameters (5.x) are set; keep one",
                          where);
  PEFT_ASSIGN_OR_RETURN(double theta, json_get_float_or(config, theta_key, default_theta, where));
  PEFT_ASSIGN_OR_RETURN(rope.rotary_fraction, json_get_float_or(config, "partial_rotary_factor", 1.0, where));
  if (has_parameters) {
    const Json& p = config["rope_parameters"];
    if (!p.is_object()) return Status::errorf("{}: rope_parameters must be an object", where);
    for (auto it = p.begin(); it != p.end(); ++it)
      if (it.value().is_object())
        return Status::errorf(
            "{}: rope_parameters per layer type ('{}': {{...}}) are not supported for this "
            "architecture",
            where, it.key());
    PEFT_ASSIGN_OR_RETURN(theta, json_get_float_or(p, "rope_theta", theta, where));
    PEFT_ASSIGN_OR_RETURN(rope.rotary_fraction,
                          json_get_float_or(p, "partial_rotary_factor", rope.rotary_fraction, where));
    Json scaling = p;
    scaling.erase("rope_theta");
    scaling.erase("partial_rotary_factor");
    PEFT_TRY(read_scaling(config, scaling, where + " (rope_parameters)", max_positions, rope));
  } else if (has_scaling) {
    if (!config["rope_scaling"].is_object()) return Status::errorf("{}: rope_scaling must be an object or null", where);
    PEFT_TRY(read_scaling(config, config["rope_scaling"], where + " (rope_scaling)", max_positions, rope));
  }
  if (!(theta > 0) || !std::isfinite(theta))
    return Status::errorf("{}: the RoPE base ({}) must be a positive number, found {}", where, theta_key, theta);
  if (!(rope.rotary_fraction > 0 && rope.rotary_fraction <= 1))
    return Status::errorf("{}: partial_rotary_factor must be in (0, 1], found {}", where, rope.rotary_fraction);
  rope.theta = float(theta);
  return rope;
}

Status finish_rope_spec(RopeSpec& rope, int64_t head_dim, const std::string& where) {
  if (rope.rot_dim == 0) rope.rot_dim = int64_t(double(head_dim) * rope.rotary_fraction);
  if (rope.rot_dim <= 0 || rope.rot_dim % 2 != 0 || rope.rot_dim > head_dim)
    return Status::errorf("{}: rotary dimension {} must be even, positive and at most the head dim {}", where,
                          rope.rot_dim, head_dim);
  if (rope.scaling == RopeScaling::LongRope) {
    const size_t half = size_t(rope.rot_dim / 2);
    if (rope.short_factor.size() != half || rope.long_factor.size() != half)
      return Status::errorf(
          "{}: longrope short_factor and long_factor need {} entries (rotary dim / 2), found {} and {}", where, half,
          rope.short_factor.size(), rope.long_factor.size());
  }
  if (rope.scaling == RopeScaling::Dynamic && rope.rot_dim <= 2)
    return Status::errorf("{}: dynamic rope scaling needs a rotary dimension above 2", where);
  return Status::ok();
}

}  // namespace peft
