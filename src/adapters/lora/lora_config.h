// LoraConfig: PEFT's LoraConfig fields, read from and written to adapter_config.json.
#pragma once
#include <string>

#include "adapters/targets.h"
#include "core/status.h"
#include "io/json_file.h"
#include "model/model.h"

namespace peft {

struct LoraConfig {
  int64_t r = 8;
  double lora_alpha = 8;
  double lora_dropout = 0.0;
  bool use_rslora = false;       // scaling α/√r instead of α/r
  std::string init = "kaiming";  // PEFT init_lora_weights: true → "kaiming", "gaussian", false → "none"
  TargetSpec targets;

  float scaling() const;
  // Reads PEFT's adapter_config.json fields (unknown fields are ignored, unsupported
  // options such as bias != "none" are errors naming the field).
  static Result<LoraConfig> from_json(const Json& j, const Model& model, const std::string& where);
  Json to_json(const Model& model) const;
};

}  // namespace peft
