// Shared CLI helpers.
#include "cli/common.h"

#include "adapters/adapter_io.h"

namespace peft::cli {

Result<LoadOptions> load_options_from_flag(const std::string& base_dtype, const std::string& adapter) {
  PEFT_ASSIGN_OR_RETURN(LoadOptions lo, load_options_from_base_dtype(base_dtype));
  // An encoder adapter brings its head's shape: the base may have none (a pretrained checkpoint).
  if (!adapter.empty()) PEFT_TRY(adapter_head_options(adapter, lo.head));
  return lo;
}

Status refuse_given(const CLI::App& cmd, std::initializer_list<const char*> flags, const std::string& why) {
  for (const char* f : flags)
    if (cmd.count(f) > 0) return Status::errorf("{} {}", f, why);
  return Status::ok();
}

Result<std::unique_ptr<Adapter>> load_cli_adapter(const Model& model, const std::string& path,
                                                  const std::optional<double>& scale) {
  if (path.empty()) {
    if (scale) return Status::error("--adapter-scale needs --adapter");
    return std::unique_ptr<Adapter>();
  }
  PEFT_ASSIGN_OR_RETURN(auto adapter, load_adapter(model, path));
  if (scale) PEFT_TRY(adapter->set_scale(*scale).with_context(path));
  return adapter;
}

void add_chat_flags(CLI::App& cmd, ChatFlags& flags, const std::string& use) {
  cmd.add_flag("--chat", flags.chat, "an instruction-tuned model: " + use);
  cmd.add_option("--chat-template", flags.chat_template,
                 "chat template file (.jinja) instead of the model's; implies --chat");
  cmd.add_option("--system", flags.system, "a system message before the user's (chat prompts)");
}

Status check_chat_flags(const CLI::App& cmd, const ChatFlags& flags) {
  if (!flags.on()) return refuse_given(cmd, {"--system"}, "applies to chat prompts (--chat or --chat-template)");
  return Status::ok();
}

}  // namespace peft::cli
