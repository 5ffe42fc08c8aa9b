// LoraConfig parsing and validation.
#include "adapters/lora/lora_config.h"

#include <cmath>

namespace peft {

float LoraConfig::scaling() const {
  return float(use_rslora ? lora_alpha / std::sqrt(double(r)) : lora_alpha / double(r));
}

Result<LoraConfig> LoraConfig::from_json(const Json& j, const Model& model, const std::string& where) {
  LoraConfig c;
  PEFT_ASSIGN_OR_RETURN(c.r, json_get_int_or(j, "r", 8, where));
  if (c.r <= 0) return Status::errorf("{}: r must be positive, found {}", where, c.r);
  PEFT_ASSIGN_OR_RETURN(c.lora_alpha, json_get_float_or(j, "lora_alpha", 8.0, where));
  PEFT_ASSIGN_OR_RETURN(c.lora_dropout, json_get_float_or(j, "lora_dropout", 0.0, where));
  if (!(c.lora_dropout >= 0.0 && c.lora_dropout < 1.0))
    return Status::errorf("{}: lora_dropout must be in [0, 1), found {}", where, c.lora_dropout);
  PEFT_ASSIGN_OR_RETURN(c.use_rslora, json_get_bool_or(j, "use_rslora", false, where));
  PEFT_ASSIGN_OR_RETURN(std::string bias, json_get_string_or(j, "bias", "none", where));
  if (bias != "none") return Status::errorf("{}: bias '{}' is not supported (only \"none\")", where, bias);
  if (j.contains("modules_to_save") && !j["modules_to_save"].is_null())
    return Status::errorf("{}: modules_to_save is not supported", where);
  for (const char* key : {"rank_pattern", "alpha_pattern"})
    if (j.contains(key) && !j[key].is_null() && !j[key].empty())
      return Status::errorf("{}: {} is not supported", where, key);
  if (j.contains("init_lora_weights")) {
    const Json& init = j["init_lora_weights"];
    if (init.is_boolean())
      c.init = init.get<bool>() ? "kaiming" : "none";
    else if (init.is_string() && init.get<std::string>() == "gaussian")
      c.init = "gaussian";
    else
      return Status::errorf("{}: init_lora_weights must be true, false or \"gaussian\"", where);
  }
  PEFT_ASSIGN_OR_RETURN(c.targets, parse_targets(j, target_list(model.arch->targets.query_value), where));
  return c;
}

Json LoraConfig::to_json(const Model& model) const {
  // Written for the oldest PEFT that matters (0.6.2): no key it does not know. rsLoRA's
  // scaling α/√r is the plain scaling α'/r with α' = α·√r, which every PEFT and llama.cpp's
  // converter apply without knowing use_rslora (PEFT ≥ 0.8 reads the file the same way).
  const PeftTargets t = peft_targets(model, targets);
  Json j = Json::object();
  j["peft_type"] = "LORA";
  j["task_type"] = "CAUSAL_LM";
  j["r"] = r;
  j["lora_alpha"] = use_rslora ? lora_alpha * std::sqrt(double(r)) : lora_alpha;
  j["lora_dropout"] = lora_dropout;
  j["bias"] = "none";
  j["fan_in_fan_out"] = model.names.conv1d;  // how PEFT must treat GPT-2's Conv1D weights
  j["target_modules"] = t.target_modules;
  j["layers_to_transform"] = t.layers_to_transform;
  j["layers_pattern"] = nullptr;
  j["init_lora_weights"] = init == "gaussian" ? Json("gaussian") : Json(init != "none");
  j["inference_mode"] = true;
  j["modules_to_save"] = nullptr;
  j["rank_pattern"] = Json::object();
  j["alpha_pattern"] = Json::object();
  j["revision"] = nullptr;
  j["auto_mapping"] = nullptr;
  return j;
}

}  // namespace peft
