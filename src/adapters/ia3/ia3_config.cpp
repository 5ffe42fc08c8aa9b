// Ia3Config: PEFT's fields, read and validated from adapter_config.json and written back.
#include "adapters/ia3/ia3_config.h"

namespace peft {

Result<Ia3Config> Ia3Config::from_json(const Json& j, const Model& model, const std::string& where) {
  Ia3Config c;
  PEFT_ASSIGN_OR_RETURN(c.targets, parse_targets(j, target_list(model.arch->targets.scaled), where));
  const Json ff = j.contains("feedforward_modules") ? j["feedforward_modules"] : Json();
  if (ff.is_null()) {  // PEFT fills it from its per-architecture table
    c.feedforward = target_list(model.arch->targets.scaled_input);
  } else if (ff.is_array()) {
    for (const Json& e : ff) {
      if (!e.is_string()) return Status::errorf("{}: feedforward_modules entries must be strings", where);
      c.feedforward.push_back(e.get<std::string>());
    }
  } else if (ff.is_string()) {
    c.feedforward.push_back(ff.get<std::string>());
  } else {
    return Status::errorf("{}: feedforward_modules must be a list of names", where);
  }
  if (c.targets.kind == TargetSpec::Kind::List && !ff.is_null())
    for (const std::string& f : c.feedforward)
      if (std::find(c.targets.names.begin(), c.targets.names.end(), f) == c.targets.names.end())
        return Status::errorf("{}: feedforward_modules entry '{}' is not in target_modules", where, f);
  PEFT_ASSIGN_OR_RETURN(c.init_ones, json_get_bool_or(j, "init_ia3_weights", true, where));
  return c;
}

Json Ia3Config::to_json(const Model& model) const {
  // PEFT 0.6.2's IA3Config has no layers_to_transform, and it requires feedforward_modules
  // to be a subset of a target_modules list: a restriction to layers, or a list that does not
  // contain the feed-forward names as written, becomes the regex of the selected paths.
  Json target_modules = peft_targets(model, targets, /*layers_as_regex=*/true).target_modules;
  if (target_modules.is_array())
    for (const std::string& f : feedforward)
      if (std::find(target_modules.begin(), target_modules.end(), Json(f)) == target_modules.end()) {
        target_modules = exact_target_regex(model, targets);
        break;
      }
  return Json{{"peft_type", "IA3"},
              {"task_type", "CAUSAL_LM"},
              {"target_modules", target_modules},
              {"feedforward_modules", feedforward},
              {"fan_in_fan_out", model.names.conv1d},
              {"init_ia3_weights", init_ones},
              {"inference_mode", true},
              {"modules_to_save", nullptr},
              {"revision", nullptr},
              {"auto_mapping", nullptr}};
}

}  // namespace peft
