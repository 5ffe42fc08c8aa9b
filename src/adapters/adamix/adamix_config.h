// AdamixConfig: AdaMix (Wang et al. 2022, arXiv 2210.17451) settings in adapter_config.json.
#pragma once
#include <string>

#include "adapters/bottleneck/bottleneck_config.h"
#include "adapters/targets.h"
#include "core/status.h"
#include "io/json_file.h"
#include "model/model.h"

namespace peft {

// adapter_config.json (peft_type "ADAMIX"):
//   base               "lora" (a mixture of LoRA modules) or "bottleneck" (a mixture of series
//                      bottleneck adapters after the MLP output, AdaMix's "mixture of adapters")
//   num_experts        E ≥ 1 copies of each side of the module
//   share_up           one up-projection (LoRA B / adapter_up) shared by all experts (default
//                      true, as both AdaMix recipes); share_down: one down-projection (LoRA A /
//                      adapter_down). Both shared = the plain module, an error.
//   consistency_weight λ of the symmetric-KL consistency loss between two routed passes
//                      (default 1.0, 0 = off). AdaMix's GPT-2 code sums a token-level KL with a
//                      large weight; here the KL is averaged over loss-bearing tokens.
//   target_modules, layers_to_transform   as PEFT; the default is the architecture's LoRA
//                      targets (base lora) or its AdapterP target, the MLP output (bottleneck)
// base "lora":       r, lora_alpha, lora_dropout as LoRA (PEFT names)
// base "bottleneck": bottleneck_size (16), non_linearity (gelu; what BottleneckConfig accepts),
//                    adapter_dropout (0) as LLM-Adapters' names; scaling is fixed at 1.
// Only the chosen base's fields are written back. `peft train` writes every --adamix-* flag
// default into the config, so the other base's fields are tolerated at their defaults (flag or
// config) and refused at any other value (a flag given to the wrong base is an error, not ignored).
struct AdamixConfig {
  std::string base = "lora";
  int64_t num_experts = 4;
  bool share_up = true;
  bool share_down = false;
  // base "lora"
  int64_t r = 8;
  double lora_alpha = 8;
  double lora_dropout = 0.0;
  // base "bottleneck"
  int64_t bottleneck_size = 16;
  std::string non_linearity = "gelu";
  BottleneckAct act;  // parsed non_linearity
  double adapter_dropout = 0.0;
  double consistency_weight = 1.0;
  TargetSpec targets;

  bool is_bottleneck() const { return base == "bottleneck"; }
  float scaling() const { return float(lora_alpha / double(r)); }
  int64_t num_down() const { return share_down ? 1 : num_experts; }  // down-projection copies
  int64_t num_up() const { return share_up ? 1 : num_experts; }      // up-projection copies
  static Result<AdamixConfig> from_json(const Json& j, const Model& model, const std::string& where);
  Json to_json(const Model& model) const;
  // Base "bottleneck": the plain LLM-Adapters config the averaged module is (output adapters
  // at the same targets, use_adapterp, scaling 1); it also validates non_linearity.
  Result<BottleneckConfig> plain_bottleneck(const Model& model, const std::string& where) const;
};

}  // namespace peft
