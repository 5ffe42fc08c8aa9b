// config.json keys that change a model's math: an architecture reads them, or loading refuses.
#pragma once
#include <string>

#include "core/status.h"
#include "io/json_file.h"
#include "model/arch.h"

namespace peft {

// arch.parse_config, then the audit: every key of a known list that changes the computation
// (RoPE scaling, sliding windows, soft-capping, extra norms, quantization, ...) and is set to
// a non-neutral value must be one the architecture reads (ArchDef::reads), or this fails
// naming the key. Reading a config silently wrong is worse than refusing it.
Result<ModelConfig> parse_model_config(const ArchDef& arch, const Json& config, const std::string& where);

// The audit alone.
Status refuse_unread_math_keys(const ArchDef& arch, const Json& config, const std::string& where);

}  // namespace peft
