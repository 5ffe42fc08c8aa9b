// BottleneckConfig parsing, validation, presets and the per-target adapter type.
#include "adapters/bottleneck/bottleneck_config.h"

#include <cstdlib>

#include "model/arch.h"

namespace peft {

namespace {

Result<BottleneckAct> parse_act(const std::string& name, const std::string& where) {
  BottleneckAct a;
  if (name == "tanh") return a;
  auto act = activation_from_hf_name(name);
  if (!act)
    return Status::errorf("{}: non_linearity '{}' is not supported (tanh, relu, gelu, gelu_new, silu, swish, identity)",
                          where, name);
  a.tanh = false;
  a.act = *act;
  return a;
}

// scaling: a number, "learned", or a number written as a string (the --adapter-scaling flag).
Status parse_scaling(const Json& j, BottleneckConfig& c, const std::string& where) {
  if (!j.contains("scaling") || j["scaling"].is_null()) return Status::ok();
  const Json& s = j["scaling"];
  if (s.is_number()) {
    c.scaling = s.get<double>();
    return Status::ok();
  }
  if (s.is_string()) {
    const std::string v = s.get<std::string>();
    if (v == "learned") {
      c.learned = true;
      return Status::ok();
    }
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (!v.empty() && end == v.c_str() + v.size()) {
      c.scaling = d;
      return Status::ok();
    }
  }
  return Status::errorf("{}: scaling must be a number or \"learned\", found {}", where, s.dump());
}

}  // namespace

Result<BottleneckConfig> BottleneckConfig::from_json(const Json& j, const Model& model, const std::string& where) {
  BottleneckConfig c;
  PEFT_ASSIGN_OR_RETURN(c.bottleneck_size, json_get_int_or(j, "bottleneck_size", 256, where));
  if (c.bottleneck_size <= 0)
    return Status::errorf("{}: bottleneck_size must be positive, found {}", where, c.bottleneck_size);
  PEFT_ASSIGN_OR_RETURN(c.non_linearity, json_get_string_or(j, "non_linearity", "tanh", where));
  PEFT_ASSIGN_OR_RETURN(c.act, parse_act(c.non_linearity, where));
  PEFT_ASSIGN_OR_RETURN(c.adapter_dropout, json_get_float_or(j, "adapter_dropout", 0.0, where));
  if (!(c.adapter_dropout >= 0.0 && c.adapter_dropout < 1.0))
    return Status::errorf("{}: adapter_dropout must be in [0, 1), found {}", where, c.adapter_dropout);
  PEFT_ASSIGN_OR_RETURN(c.use_parallel_adapter, json_get_bool_or(j, "use_parallel_adapter", false, where));
  PEFT_ASSIGN_OR_RETURN(c.use_adapterp, json_get_bool_or(j, "use_adapterp", false, where));
  // The fork lets use_parallel_adapter silently win; asking for both is a mistake here.
  if (c.use_parallel_adapter && c.use_adapterp)
    return Status::errorf(
        "{}: use_parallel_adapter and use_adapterp cannot both be true "
        "(parallel adapters replace the series/AdapterP placement)",
        where);
  PEFT_TRY(parse_scaling(j, c, where));
  PEFT_ASSIGN_OR_RETURN(c.init_weights, json_get_string_or(j, "init_weights", "bert", where));
  if (c.init_weights != "bert" && c.init_weights != "mam_adapter")
    return Status::errorf("{}: init_weights must be \"bert\" or \"mam_adapter\", found '{}'", where, c.init_weights);
  PEFT_ASSIGN_OR_RETURN(std::string bias, json_get_string_or(j, "bias", "none", where));
  if (bias != "none") return Status::errorf("{}: bias '{}' is not supported (only \"none\")", where, bias);
  if (j.contains("modules_to_save") && !j["modules_to_save"].is_null())
    return Status::errorf("{}: modules_to_save is not supported", where);

  PEFT_ASSIGN_OR_RETURN(std::string preset, json_get_string_or(j, "preset", "", where));
  const bool has_targets = j.contains("target_modules") && !j["target_modules"].is_null();
  // LLM-Adapters' placement → the architecture's default targets for it.
  const DefaultTargets& defaults = model.arch->targets;
  std::string key = c.use_parallel_adapter ? "bottleneck_parallel"
                    : c.use_adapterp       ? "bottleneck_adapterp"
                                           : "bottleneck";
  const char* fallback_names = c.use_parallel_adapter ? defaults.attention_inputs
                               : c.use_adapterp       ? defaults.mlp_output
                                                      : defaults.mlp;
  if (!preset.empty()) {
    if (preset != "houlsby" && preset != "pfeiffer")
      return Status::errorf("{}: preset must be \"houlsby\" or \"pfeiffer\", found '{}'", where, preset);
    if (has_targets)
      return Status::errorf("{}: preset '{}' chooses target_modules itself; drop one of them", where, preset);
    if (c.use_parallel_adapter)
      return Status::errorf("{}: preset '{}' places series adapters; use_parallel_adapter must be false", where,
                            preset);
    if (preset == "houlsby" && c.use_adapterp)
      return Status::errorf("{}: preset 'houlsby' conflicts with use_adapterp (that is 'pfeiffer')", where);
    key = preset == "houlsby" ? "bottleneck_houlsby" : "bottleneck_adapterp";
    fallback_names = preset == "houlsby" ? defaults.block_outputs : defaults.mlp_output;
    if (preset == "pfeiffer") c.use_adapterp = true;
  }
  const std::vector<std::string> fallback = target_list(fallback_names);
  if (!has_targets && fallback.empty())
    return Status::errorf("{}: no default target_modules for {} on {} models; set target_modules", where, key,
                          model.config.arch);
  PEFT_ASSIGN_OR_RETURN(c.targets, parse_targets(j, fallback, where));
  return c;
}

Json BottleneckConfig::to_json(const Model& model) const {
  Json j = Json::object();
  j["peft_type"] = "BOTTLENECK";
  j["task_type"] = "CAUSAL_LM";
  j["bottleneck_size"] = bottleneck_size;
  j["non_linearity"] = non_linearity;
  j["adapter_dropout"] = adapter_dropout;
  j["use_parallel_adapter"] = use_parallel_adapter;
  j["use_adapterp"] = use_adapterp;
  j["scaling"] = learned ? Json("learned") : Json(double(scaling));
  // The LLM-Adapters fork ignores layers_to_transform: a layer restriction is written as a
  // regex over the selected module paths, which it matches with re.fullmatch.
  j["target_modules"] = peft_targets(model, targets, /*layers_as_regex=*/true).target_modules;
  j["init_weights"] = init_weights;
  j["bias"] = "none";
  j["modules_to_save"] = nullptr;
  j["inference_mode"] = true;
  return j;
}

Result<BottleneckType> bottleneck_type_of(const BottleneckConfig& c, const SiteRef& s, const std::string& where) {
  if (c.use_parallel_adapter) return BottleneckType::Parallel;
  switch (s.site) {
    case Site::FfnGate:
    case Site::FfnUp:
      return BottleneckType::Mh;
    case Site::FfnDown:
    case Site::AttnO:
      return BottleneckType::Output;
    default:
      break;
  }
  return Status::errorf(
      "{}: target module '{}' has no series adapter type (series adapters go on the MLP "
      "projections and the attention output projection); set use_parallel_adapter for it",
      where, s.path);
}

}  // namespace peft
