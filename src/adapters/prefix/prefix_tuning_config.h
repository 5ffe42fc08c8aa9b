// PrefixTuningConfig: PEFT's PrefixTuningConfig fields, checked against the model's geometry.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"
#include "model/model.h"

namespace peft {

struct PrefixTuningConfig {
  int64_t num_virtual_tokens = 20;
  // PEFT's reparameterisation: E = W2 tanh(W1 emb + b1) + b2 while training (prefix_projection
  // and not inference_mode); saved adapters hold E itself (inference_mode), as PEFT saves them.
  bool projection = false;
  int64_t encoder_hidden_size = 0;

  static Result<PrefixTuningConfig> from_json(const Json& j, const Model& model, const std::string& where);
  Json to_json(const Model& model) const;
};

}  // namespace peft
