// Prompt tuning's registry entry: factory and `peft train` flags.
#include "adapters/prompt/prompt_tuning.h"
#include "adapters/registry.h"

namespace peft {

namespace {
using T = MethodFlag::Type;
}  // namespace

extern const MethodDef kPromptTuningMethod{
    "prompt",
    "PROMPT_TUNING",
    create_from_json<PromptTuningConfig, PromptTuningAdapter>,
    {
        {"--num-virtual-tokens", "num_virtual_tokens", T::Int, "virtual tokens (default 20)"},
        {"--prompt-tuning-init", "prompt_tuning_init", T::String, "RANDOM (default) or TEXT"},
        {"--prompt-tuning-init-text", "prompt_tuning_init_text", T::String, "text for TEXT init"},
    }};

}  // namespace peft
