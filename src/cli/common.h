// Helpers shared by the subcommands: loading a model with its tokenizer, common flags.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace peft::cli {

// "f32" / "bf16" / "" (keep the checkpoint's) → LoadOptions.
Result<LoadOptions> load_options_from_flag(const std::string& base_dtype);

// A tokenizer that fits the model: its vocabulary may not exceed the model's.
Result<std::unique_ptr<Tokenizer>> load_matching_tokenizer(const Model& model,
                                                           const std::string& path);

}  // namespace peft::cli
