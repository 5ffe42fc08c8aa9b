// AdaLinkConfig: rank, activation and the modality names of an AdaLink adapter.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"
#include "kernels/activations.h"
#include "model/model.h"

namespace peft {

struct AdaLinkConfig {
  int64_t rank = 4;
  std::string activation = "identity";             // identity | gelu | relu | tanh
  std::vector<std::string> modalities = {"text"};  // modality id i ↔ modalities[i]; text first

  // The activation kernel; nullopt for tanh (applied inline) or an unknown name.
  std::optional<Activation> kernel_activation() const;

  static Result<AdaLinkConfig> from_json(const Json& j, const Model& model, const std::string& where);
  Json to_json(const Model& model) const;
};

}  // namespace peft
