// (IA)³'s registry entry: factory and `peft train` flags.
#include "adapters/ia3/ia3.h"
#include "adapters/registry.h"

namespace peft {

namespace {
using T = MethodFlag::Type;
}  // namespace

extern const MethodDef kIa3Method{
    "ia3",
    "IA3",
    create_from_json<Ia3Config, Ia3Adapter>,
    {
        {"--target-modules", "target_modules", T::List,
         "comma-separated module names, a regex, or all-linear (default: the architecture's)"},
        {"--feedforward-modules", "feedforward_modules", T::List,
         "targets whose input (not output) is scaled (default: the architecture's)"},
        {"--layers-to-transform", "layers_to_transform", T::List, "comma-separated layer indices (default: all)"},
    }};

}  // namespace peft
