// Qwen2: the LLaMA layout with biases on q/k/v (not on o).
#include "model/archs/llama_family.h"

namespace peft {

namespace {
Result<ModelConfig> parse_qwen2(const Json& j, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(ModelConfig c, parse_llama_family(j, where, "qwen2", true));
  c.block.qkv_bias = true;
  c.block.o_bias = false;
  PEFT_ASSIGN_OR_RETURN(bool sliding, json_get_bool_or(j, "use_sliding_window", false, where));
  if (sliding) return Status::errorf("{}: use_sliding_window=true is not supported yet for qwen2", where);
  PEFT_TRY(validate_config(c, where));
  return c;
}
}  // namespace

extern const ArchDef kQwen2Arch{"qwen2",
                                parse_qwen2,
                                llama_family_names,
                                kLlamaFamilyTargets,
                                &kQwen2Gguf,
                                llama_family_reads({"use_sliding_window", "sliding_window"})};

}  // namespace peft
