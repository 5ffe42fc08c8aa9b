// AdamixConfig: AdaMix (Wang et al. 2022, arXiv 2210.17451) settings in adapter_config.json.
#pragma once
#include <string>

#include "adapters/targets.h"
#include "core/status.h"
#include "io/json_file.h"
#include "model/model.h"

namespace peft {

// adapter_config.json (peft_type "ADAMIX"):
//   base               "lora" (a mixture of LoRA modules; "bottleneck" is not implemented yet)
//   num_experts        E ≥ 1 copies of each side of the module
//   share_up           one B (up-projection) shared by all experts (default true, as AdaMix's
//                      LoRA recipe); share_down: one A. Both shared = plain LoRA, an error.
//   r, lora_alpha, lora_dropout, target_modules, layers_to_transform   as LoRA (PEFT names)
//   consistency_weight λ of the symmetric-KL consistency loss between two routed passes
//                      (default 1.0, 0 = off). AdaMix's GPT-2 code sums a token-level KL with a
//                      large weight; here the KL is averaged over loss-bearing tokens.
struct AdamixConfig {
  std::string base = "lora";
  int64_t num_experts = 4;
  bool share_up = true;
  bool share_down = false;
  int64_t r = 8;
  double lora_alpha = 8;
  double lora_dropout = 0.0;
  double consistency_weight = 1.0;
  TargetSpec targets;

  float scaling() const { return float(lora_alpha / double(r)); }
  int64_t num_down() const { return share_down ? 1 : num_experts; }  // A copies
  int64_t num_up() const { return share_up ? 1 : num_experts; }      // B copies
  static Result<AdamixConfig> from_json(const Json& j, const Model& model, const std::string& where);
  Json to_json(const Model& model) const;
};

}  // namespace peft
