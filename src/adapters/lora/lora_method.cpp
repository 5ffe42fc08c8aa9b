// LoRA's registry entry: factory and `peft train` flags (LLM-Adapters' finetune.py names).
#include "adapters/lora/lora.h"
#include "adapters/registry.h"

namespace peft {

namespace {
using T = MethodFlag::Type;
}  // namespace

extern const MethodDef kLoraMethod{
    "lora",
    "LORA",
    create_from_json<LoraConfig, LoraAdapter>,
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
    },
    "lora",  // llama.cpp's adapter.type
    load_lora_gguf,
    {"gguf-lora"}};

}  // namespace peft
