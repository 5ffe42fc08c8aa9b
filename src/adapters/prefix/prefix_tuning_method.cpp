// Prefix tuning's registry entry: factory and `peft train` flags.
#include "adapters/prefix/prefix_tuning.h"
#include "adapters/registry.h"

namespace peft {

namespace {
using T = MethodFlag::Type;
}  // namespace

extern const MethodDef kPrefixTuningMethod{
    "prefix",
    "PREFIX_TUNING",
    create_from_json<PrefixTuningConfig, PrefixTuningAdapter>,
    {
        {"--num-virtual-tokens", "num_virtual_tokens", T::Int, "virtual tokens (default 20)"},
        {"--prefix-projection", "prefix_projection", T::Bool, "train through PEFT's reparameterisation MLP"},
        {"--encoder-hidden-size", "encoder_hidden_size", T::Int, "width of that MLP (default: hidden size)"},
    }};

}  // namespace peft
