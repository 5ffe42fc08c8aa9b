// Helpers shared by the subcommands: loading a model with its tokenizer, common flags.
#pragma once
#include <CLI/CLI.hpp>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>

#include "adapters/adapter.h"
#include "core/status.h"
#include "model/model.h"
#include "tokenizer/model_tokenizer.h"

namespace peft::cli {

// "f32" / "bf16" / "" (keep the checkpoint's) → LoadOptions.
Result<LoadOptions> load_options_from_flag(const std::string& base_dtype);

// No flag is silently ignored: an error naming the first of `flags` the user gave on `cmd`,
// with `why` ("only applies when sampling (--temperature > 0)").
Status refuse_given(const CLI::App& cmd, std::initializer_list<const char*> flags, const std::string& why);

// The adapter at `path` (a PEFT folder or a GGUF adapter file) for `model`; `scale`
// (--adapter-scale) multiplies a low-rank update. A scale without an adapter is an error.
Result<std::unique_ptr<Adapter>> load_cli_adapter(const Model& model, const std::string& path,
                                                  const std::optional<double>& scale);

}  // namespace peft::cli
