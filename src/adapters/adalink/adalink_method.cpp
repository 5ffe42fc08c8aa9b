// AdaLink's registry entry: factory and `peft train` flags.
#include "adapters/adalink/adalink.h"
#include "adapters/registry.h"

namespace peft {

namespace {
using T = MethodFlag::Type;
}  // namespace

extern const MethodDef kAdaLinkMethod{
    "adalink",
    "ADALINK",
    create_from_json<AdaLinkConfig, AdaLinkAdapter>,
    {
        {"--adalink-rank", "r", T::Int, "rank of each modality's module (default 4)"},
        {"--adalink-activation", "activation", T::String, "identity (default), gelu, relu or tanh"},
        {"--adalink-modalities", "modalities", T::List, "modality names, text first (default text)"},
    }};

}  // namespace peft
