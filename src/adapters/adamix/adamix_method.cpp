// AdaMix's registry entry: factory and `peft train` flags.
#include "adapters/adamix/adamix.h"
#include "adapters/registry.h"

namespace peft {

namespace {
using T = MethodFlag::Type;
}  // namespace

// LoRA's own flags (--lora-r, ...) belong to --method lora, so AdaMix names its copies.
extern const MethodDef kAdamixMethod{
    "adamix",
    "ADAMIX",
    create_from_json<AdamixConfig, AdamixAdapter>,
    {
        {"--adamix-base", "base", T::String, "module mixed: lora (default; bottleneck not yet)", "lora"},
        {"--adamix-experts", "num_experts", T::Int, "experts per module (default 4)", "4"},
        {"--adamix-share-up", "share_up", T::String, "one shared B / up-projection: true (default) | false", "true"},
        {"--adamix-share-down", "share_down", T::String, "one shared A / down-projection: true | false (default)", "false"},
        {"--adamix-consistency", "consistency_weight", T::Float,
         "weight of the symmetric-KL consistency loss between two routed passes (default 1.0; 0 = off)", "1.0"},
        {"--adamix-r", "r", T::Int, "rank of every expert (default 8)", "8"},
        {"--adamix-alpha", "lora_alpha", T::Float, "alpha; scaling alpha/r (default 16)", "16"},
        {"--adamix-dropout", "lora_dropout", T::Float, "dropout on the expert input (default 0.05)", "0.05"},
        {"--adamix-target-modules", "target_modules", T::List,
         "comma-separated module names, a regex, or all-linear (default: the architecture's LoRA targets)"},
    }};

}  // namespace peft
