// AdamixConfig parsing and validation.
#include "adapters/adamix/adamix_config.h"

namespace peft {

Result<AdamixConfig> AdamixConfig::from_json(const Json& j, const Model& model, const std::string& where) {
  AdamixConfig c;
  PEFT_ASSIGN_OR_RETURN(c.base, json_get_string_or(j, "base", "lora", where));
  if (c.base == "bottleneck")
    return Status::errorf("{}: base 'bottleneck' (a mixture of series adapters) is not implemented yet; use \"lora\"",
                          where);
  if (c.base != "lora")
    return Status::errorf("{}: base '{}' is unknown (supported: lora)", where, c.base);
  PEFT_ASSIGN_OR_RETURN(c.num_experts, json_get_int_or(j, "num_experts", 4, where));
  if (c.num_experts < 1)
    return Status::errorf("{}: num_experts must be at least 1, found {}", where, c.num_experts);
  PEFT_ASSIGN_OR_RETURN(c.share_up, json_get_bool_or(j, "share_up", true, where));
  PEFT_ASSIGN_OR_RETURN(c.share_down, json_get_bool_or(j, "share_down", false, where));
  if (c.share_up && c.share_down)
    return Status::errorf("{}: share_up and share_down are both true: that is a plain LoRA (use --method lora)",
                          where);
  PEFT_ASSIGN_OR_RETURN(c.r, json_get_int_or(j, "r", 8, where));
  if (c.r <= 0) return Status::errorf("{}: r must be positive, found {}", where, c.r);
  PEFT_ASSIGN_OR_RETURN(c.lora_alpha, json_get_float_or(j, "lora_alpha", 8.0, where));
  PEFT_ASSIGN_OR_RETURN(c.lora_dropout, json_get_float_or(j, "lora_dropout", 0.0, where));
  if (!(c.lora_dropout >= 0.0 && c.lora_dropout < 1.0))
    return Status::errorf("{}: lora_dropout must be in [0, 1), found {}", where, c.lora_dropout);
  PEFT_ASSIGN_OR_RETURN(c.consistency_weight, json_get_float_or(j, "consistency_weight", 1.0, where));
  if (!(c.consistency_weight >= 0.0))
    return Status::errorf("{}: consistency_weight must be >= 0, found {}", where, c.consistency_weight);
  PEFT_ASSIGN_OR_RETURN(c.targets, parse_targets(j, default_targets(*model.arch, "lora"), where));
  return c;
}

Json AdamixConfig::to_json(const Model& model) const {
  Json j = Json::object();
  j["peft_type"] = "ADAMIX";
  j["task_type"] = "CAUSAL_LM";
  j["base"] = base;
  j["num_experts"] = num_experts;
  j["share_up"] = share_up;
  j["share_down"] = share_down;
  j["r"] = r;
  j["lora_alpha"] = lora_alpha;
  j["lora_dropout"] = lora_dropout;
  j["consistency_weight"] = consistency_weight;
  j["target_modules"] = targets_to_json(targets);
  j["layers_to_transform"] = targets.layers.empty() ? Json() : Json(targets.layers);
  j["inference_mode"] = true;
  return j;
}

}  // namespace peft
