// Bottleneck adapters' registry entry: factory and `peft train` flags (LLM-Adapters' finetune.py names).
#include "adapters/bottleneck/bottleneck.h"
#include "adapters/registry.h"

namespace peft {

namespace {
using T = MethodFlag::Type;
}  // namespace

extern const MethodDef kBottleneckMethod{
    "bottleneck",
    "BOTTLENECK",
    create_from_json<BottleneckConfig, BottleneckAdapter>,
    {
        // Defaults are LLM-Adapters' finetune.py's.
        {"--bottleneck-size", "bottleneck_size", T::Int, "adapter bottleneck width (default 256)", "256"},
        {"--non-linearity", "non_linearity", T::String, "tanh (default), relu, gelu, gelu_new, silu or identity",
         "tanh"},
        {"--adapter-dropout", "adapter_dropout", T::Float, "dropout on the adapter input (default 0)", "0.0"},
        {"--adapter-scaling", "scaling", T::String, "adapter output scale: a number (default 1.0) or 'learned'", "1.0"},
        {"--use-parallel-adapter", "use_parallel_adapter", T::Bool,
         "parallel adapters (default targets: the attention q/k/v projections)"},
        {"--use-adapterp", "use_adapterp", T::Bool,
         "AdapterP (Pfeiffer): one output adapter on the MLP output projection"},
        {"--target-modules", "target_modules", T::List,
         "comma-separated module names, a regex, or all-linear (default: the architecture's)"},
        {"--init-weights", "init_weights", T::String, "bert (default) or mam_adapter (identity at init)"},
        {"--bottleneck-preset", "preset", T::String,
         "houlsby (after attention and MLP outputs) or pfeiffer (after the MLP output)"},
        {"--layers-to-transform", "layers_to_transform", T::List, "comma-separated layer indices (default: all)"},
    }};

}  // namespace peft
