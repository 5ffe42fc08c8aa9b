// AdaMix's registry entry: factory (dispatching on the mixed module) and `peft train` flags.
#include "adapters/adamix/adamix.h"
#include "adapters/adamix/adamix_bottleneck.h"
#include "adapters/registry.h"

namespace peft {

namespace {
using T = MethodFlag::Type;

// One config type, two adapter classes: the base decides which module is mixed.
Result<std::unique_ptr<Adapter>> create_adamix(const Model& model, const Json& json, const std::string& where,
                                               uint64_t seed) {
  PEFT_ASSIGN_OR_RETURN(AdamixConfig c, AdamixConfig::from_json(json, model, where));
  if (c.is_bottleneck()) {
    PEFT_ASSIGN_OR_RETURN(auto adapter, AdamixBottleneckAdapter::create(model, c, seed));
    return std::unique_ptr<Adapter>(std::move(adapter));
  }
  PEFT_ASSIGN_OR_RETURN(auto adapter, AdamixAdapter::create(model, c, seed));
  return std::unique_ptr<Adapter>(std::move(adapter));
}

}  // namespace

// LoRA's and the bottleneck method's own flags belong to those methods, so AdaMix names its
// copies. Every default is written into the config whatever the base (cmd_train.cpp), so the
// config tolerates the other base's fields at these defaults; the bottleneck-only flags have
// none (the config's defaults apply).
extern const MethodDef kAdamixMethod{
    "adamix",
    "ADAMIX",
    create_adamix,
    {
        {"--adamix-base", "base", T::String,
         "module mixed: lora (default; LoRA on the LoRA targets) or bottleneck (AdaMix's mixture of adapters: "
         "series bottleneck adapters after the MLP output)",
         "lora"},
        {"--adamix-experts", "num_experts", T::Int, "experts per module (default 4)", "4"},
        {"--adamix-share-up", "share_up", T::String, "one shared B / up-projection: true (default) | false", "true"},
        {"--adamix-share-down", "share_down", T::String, "one shared A / down-projection: true | false (default)",
         "false"},
        {"--adamix-consistency", "consistency_weight", T::Float,
         "weight of the symmetric-KL consistency loss between two routed passes (default 1.0; 0 = off)", "1.0"},
        {"--adamix-r", "r", T::Int, "base lora: rank of every expert (default 8)", "8"},
        {"--adamix-alpha", "lora_alpha", T::Float, "base lora: alpha; scaling alpha/r (default 16)", "16"},
        {"--adamix-dropout", "lora_dropout", T::Float, "base lora: dropout on the expert input (default 0.05)", "0.05"},
        {"--adamix-bottleneck-size", "bottleneck_size", T::Int, "base bottleneck: adapter width (default 16)"},
        {"--adamix-non-linearity", "non_linearity", T::String,
         "base bottleneck: gelu (default), tanh, relu, gelu_new, silu or identity"},
        {"--adamix-adapter-dropout", "adapter_dropout", T::Float,
         "base bottleneck: dropout on the adapter input (default 0)"},
        {"--adamix-target-modules", "target_modules", T::List,
         "comma-separated module names, a regex, or all-linear (default: the architecture's LoRA targets, or "
         "its MLP output projection for base bottleneck)"},
        {"--layers-to-transform", "layers_to_transform", T::List, "comma-separated layer indices (default: all)"},
    },
    nullptr,
    nullptr,
    {"peft-lora", "gguf-lora", "bottleneck"}};

}  // namespace peft
