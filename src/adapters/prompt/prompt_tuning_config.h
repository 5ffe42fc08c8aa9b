// PromptTuningConfig: PEFT's PromptTuningConfig fields (virtual tokens, RANDOM or TEXT init).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"
#include "model/model.h"

namespace peft {

struct PromptTuningConfig {
  int64_t num_virtual_tokens = 20;
  std::string init = "RANDOM";  // PEFT prompt_tuning_init: RANDOM (N(0, 1)) or TEXT
  std::string init_text;        // prompt_tuning_init_text for TEXT

  static Result<PromptTuningConfig> from_json(const Json& j, const Model& model, const std::string& where);
  Json to_json(const Model& model) const;
};

}  // namespace peft
