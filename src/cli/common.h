// Helpers shared by the subcommands: loading a model with its tokenizer, common flags.
#pragma once
#include <CLI/CLI.hpp>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>

#include "adapters/adapter.h"
#include "core/status.h"
#include "model/gguf_export.h"
#include "model/model.h"
#include "tokenizer/model_tokenizer.h"

namespace peft::cli {

// --base-dtype, and with an --adapter the task head it was trained with (adapter_head_options).
Result<LoadOptions> load_options_from_flag(const std::string& base_dtype, const std::string& adapter = "");

// `model` (loaded from model_path, whose tokenizer is embedded) as a GGUF file of --type
// `type_flag` ("" = f32); lossy matrices' errors go to storage_errors when given.
Status write_model_gguf(const Model& model, const std::string& model_path, const std::string& out,
                        const std::string& type_flag, const std::string& name,
                        std::vector<StorageError>* storage_errors);

// No flag is silently ignored: an error naming the first of `flags` the user gave on `cmd`,
// with `why` ("only applies when sampling (--temperature > 0)").
Status refuse_given(const CLI::App& cmd, std::initializer_list<const char*> flags, const std::string& why);

// Chat prompting of an instruction-tuned model (generate, eval): --chat, --chat-template FILE
// (implies --chat), --system TEXT. `use` says what --chat does in that command.
struct ChatFlags {
  bool chat = false;
  std::string chat_template, system;
  bool on() const { return chat || !chat_template.empty(); }
};
void add_chat_flags(CLI::App& cmd, ChatFlags& flags, const std::string& use);
// --system without chat prompting is refused.
Status check_chat_flags(const CLI::App& cmd, const ChatFlags& flags);

// The adapter at `path` (a PEFT folder or a GGUF adapter file) for `model`; `scale`
// (--adapter-scale) multiplies a low-rank update. A scale without an adapter is an error.
Result<std::unique_ptr<Adapter>> load_cli_adapter(const Model& model, const std::string& path,
                                                  const std::optional<double>& scale);

}  // namespace peft::cli
