// LoRA's registry entry: factory and `peft train` flags (LLM-Adapters' finetune.py names).
#include "adapters/lora/lora.h"
#include "adapters/registry.h"

namespace peft {

namespace {
Result<std::unique_ptr<Adapter>> create_lora(const Model& model, const Json& config,
                                             const std::string& where, uint64_t seed) {
  PEFT_ASSIGN_OR_RETURN(LoraConfig c, LoraConfig::from_json(config, model, where));
  PEFT_ASSIGN_OR_RETURN(auto adapter, LoraAdapter::create(model, c, seed));
  return std::unique_ptr<Adapter>(std::move(adapter));
}
using T = MethodFlag::Type;
}  // namespace

extern const MethodDef kLoraMethod{
    "lora",
    "LORA",
    create_lora,
    {
        // Defaults are LLM-Adapters' finetune.py's (PEFT's own: alpha 8, dropout 0).
        {"--lora-r", "r", T::Int, "LoRA rank (default 8)", "8"},
        {"--lora-alpha", "lora_alpha", T::Float, "LoRA alpha; scaling alpha/r (default 16)", "16"},
        {"--lora-dropout", "lora_dropout", T::Float, "dropout on the LoRA input (default 0.05)", "0.05"},
        {"--target-modules", "target_modules", T::List,
         "comma-separated module names, a regex, or all-linear (default: the architecture's)"},
        {"--use-rslora", "use_rslora", T::Bool, "scale by alpha/sqrt(r)"},
        {"--init-lora-weights", "init_lora_weights", T::String, "true | gaussian | false"},
        {"--layers-to-transform", "layers_to_transform", T::List, "comma-separated layer indices"},
    }};

}  // namespace peft
