// AdamixConfig parsing and validation.
#include "adapters/adamix/adamix_config.h"

#include <initializer_list>

#include "model/arch.h"

namespace peft {

namespace {

// A field of the base not chosen: absent, or at one of the defaults `peft train` or the config
// supplies (numbers compare by value, 16 == 16.0); any other value was meant for the other base.
Status other_base_field(const Json& j, const char* key, std::initializer_list<Json> defaults, const std::string& base,
                        const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return Status::ok();
  for (const Json& d : defaults)
    if (j[key] == d) return Status::ok();
  return Status::errorf("{}: {} does not apply to base '{}' (found {}); it belongs to base '{}'", where, key, base,
                        j[key].dump(), base == "lora" ? "bottleneck" : "lora");
}

Status parse_lora_fields(const Json& j, AdamixConfig& c, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(c.r, json_get_int_or(j, "r", 8, where));
  if (c.r <= 0) return Status::errorf("{}: r must be positive, found {}", where, c.r);
  PEFT_ASSIGN_OR_RETURN(c.lora_alpha, json_get_float_or(j, "lora_alpha", 8.0, where));
  PEFT_ASSIGN_OR_RETURN(c.lora_dropout, json_get_float_or(j, "lora_dropout", 0.0, where));
  if (!(c.lora_dropout >= 0.0 && c.lora_dropout < 1.0))
    return Status::errorf("{}: lora_dropout must be in [0, 1), found {}", where, c.lora_dropout);
  PEFT_TRY(other_base_field(j, "bottleneck_size", {16}, c.base, where));
  PEFT_TRY(other_base_field(j, "non_linearity", {"gelu"}, c.base, where));
  return other_base_field(j, "adapter_dropout", {0}, c.base, where);
}

Status parse_bottleneck_fields(const Json& j, AdamixConfig& c, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(c.bottleneck_size, json_get_int_or(j, "bottleneck_size", 16, where));
  if (c.bottleneck_size <= 0)
    return Status::errorf("{}: bottleneck_size must be positive, found {}", where, c.bottleneck_size);
  PEFT_ASSIGN_OR_RETURN(c.non_linearity, json_get_string_or(j, "non_linearity", "gelu", where));
  PEFT_ASSIGN_OR_RETURN(c.adapter_dropout, json_get_float_or(j, "adapter_dropout", 0.0, where));
  if (!(c.adapter_dropout >= 0.0 && c.adapter_dropout < 1.0))
    return Status::errorf("{}: adapter_dropout must be in [0, 1), found {}", where, c.adapter_dropout);
  // The LoRA fields' config defaults (8, 8, 0) and `peft train` flag defaults (8, 16, 0.05).
  PEFT_TRY(other_base_field(j, "r", {8}, c.base, where));
  PEFT_TRY(other_base_field(j, "lora_alpha", {8, 16}, c.base, where));
  return other_base_field(j, "lora_dropout", {0, 0.05}, c.base, where);
}

}  // namespace

Result<AdamixConfig> AdamixConfig::from_json(const Json& j, const Model& model, const std::string& where) {
  AdamixConfig c;
  PEFT_ASSIGN_OR_RETURN(c.base, json_get_string_or(j, "base", "lora", where));
  if (c.base != "lora" && c.base != "bottleneck")
    return Status::errorf("{}: base '{}' is unknown (supported: lora, bottleneck)", where, c.base);
  PEFT_ASSIGN_OR_RETURN(c.num_experts, json_get_int_or(j, "num_experts", 4, where));
  // AdaMix uses 4; every step touches every expert, so thousands only burn time and memory.
  if (c.num_experts < 1) return Status::errorf("{}: num_experts must be at least 1, found {}", where, c.num_experts);
  if (c.num_experts > 64) return Status::errorf("{}: num_experts must be at most 64, found {}", where, c.num_experts);
  PEFT_ASSIGN_OR_RETURN(c.share_up, json_get_bool_or(j, "share_up", true, where));
  PEFT_ASSIGN_OR_RETURN(c.share_down, json_get_bool_or(j, "share_down", false, where));
  if (c.share_up && c.share_down)
    return Status::errorf("{}: share_up and share_down are both true: that is a {}", where,
                          c.is_bottleneck() ? "plain bottleneck adapter (use --method bottleneck --use-adapterp)"
                                            : "plain LoRA (use --method lora)");
  PEFT_ASSIGN_OR_RETURN(c.consistency_weight, json_get_float_or(j, "consistency_weight", 1.0, where));
  if (!(c.consistency_weight >= 0.0))
    return Status::errorf("{}: consistency_weight must be >= 0, found {}", where, c.consistency_weight);
  PEFT_TRY(c.is_bottleneck() ? parse_bottleneck_fields(j, c, where) : parse_lora_fields(j, c, where));
  const std::vector<std::string> fallback =
      target_list(c.is_bottleneck() ? model.arch->targets.mlp_output : model.arch->targets.query_value);
  const bool has_targets = j.contains("target_modules") && !j["target_modules"].is_null();
  if (!has_targets && fallback.empty())
    return Status::errorf("{}: no default target_modules for base '{}' on {} models; set target_modules", where, c.base,
                          model.config.arch);
  PEFT_ASSIGN_OR_RETURN(c.targets, parse_targets(j, fallback, where));
  if (c.is_bottleneck()) {
    PEFT_ASSIGN_OR_RETURN(BottleneckConfig plain, c.plain_bottleneck(model, where));
    c.act = plain.act;
  }
  return c;
}

Result<BottleneckConfig> AdamixConfig::plain_bottleneck(const Model& model, const std::string& where) const {
  Json j = Json::object();
  j["bottleneck_size"] = bottleneck_size;
  j["non_linearity"] = non_linearity;
  j["adapter_dropout"] = adapter_dropout;
  j["use_adapterp"] = true;
  j["scaling"] = 1.0;
  j["init_weights"] = "mam_adapter";  // what create() does: Kaiming-uniform down, zero up
  j["target_modules"] = targets_to_json(targets);
  if (!targets.layers.empty()) j["layers_to_transform"] = targets.layers;
  return BottleneckConfig::from_json(j, model, where);
}

Json AdamixConfig::to_json(const Model& model) const {
  Json j = Json::object();
  j["peft_type"] = "ADAMIX";
  j["task_type"] = "CAUSAL_LM";
  j["base"] = base;
  j["num_experts"] = num_experts;
  j["share_up"] = share_up;
  j["share_down"] = share_down;
  if (is_bottleneck()) {
    j["bottleneck_size"] = bottleneck_size;
    j["non_linearity"] = non_linearity;
    j["adapter_dropout"] = adapter_dropout;
  } else {
    j["r"] = r;
    j["lora_alpha"] = lora_alpha;
    j["lora_dropout"] = lora_dropout;
  }
  j["consistency_weight"] = consistency_weight;
  j["target_modules"] = targets_to_json(targets);
  j["layers_to_transform"] = targets.layers.empty() ? Json() : Json(targets.layers);
  j["inference_mode"] = true;
  (void)model;
  return j;
}

}  // namespace peft
