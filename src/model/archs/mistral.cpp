// Mistral: the LLaMA layout with sliding-window attention.
#include "model/archs/llama_family.h"

namespace peft {

namespace {
Result<ModelConfig> parse_mistral(const Json& j, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(ModelConfig c, parse_llama_family(j, where, "mistral", false));
  // Query i sees key j iff i − j < sliding_window (transformers ≥ 4.37 eager/sdpa mask).
  PEFT_ASSIGN_OR_RETURN(c.sliding_window, json_get_int_or(j, "sliding_window", 0, where));
  if (c.sliding_window < 0)
    return Status::errorf("{}: sliding_window must be positive or null, found {}", where, c.sliding_window);
  PEFT_TRY(validate_config(c, where));
  return c;
}
}  // namespace

extern const ArchDef kMistralArch{"mistral",           parse_mistral, llama_family_names,
                                  kLlamaFamilyTargets, &kLlamaGguf,   llama_family_reads({"sliding_window"})};

}  // namespace peft
