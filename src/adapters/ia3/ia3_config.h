// Ia3Config: PEFT's IA3Config fields (target and feed-forward modules, init).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "adapters/targets.h"
#include "core/status.h"
#include "io/json_file.h"
#include "model/model.h"

namespace peft {

struct Ia3Config {
  TargetSpec targets;
  std::vector<std::string> feedforward;  // names (PEFT matching) whose input is scaled
  bool init_ones = true;                 // init_ia3_weights

  static Result<Ia3Config> from_json(const Json& j, const Model& model, const std::string& where);
  Json to_json(const Model& model) const;
};

}  // namespace peft
