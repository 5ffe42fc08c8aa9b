// peft chat-template: renders a conversation with a chat template, exactly (nothing added), so
// users can check what training and generation will see.
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>

#include "cli/command.h"
#include "data/chat_template.h"

namespace peft::cli {

namespace {

struct ChatTemplateArgs {
  std::string template_file, model, messages, date;
  std::optional<std::string> bos_token, eos_token;
  std::vector<std::string> vars;
  bool add_generation_prompt = false;
};

Status run_chat_template(const ChatTemplateArgs& a) {
  if (a.template_file.empty() == a.model.empty()) return Status::error("give exactly one of --template and --model");
  ChatTemplate tmpl;
  if (!a.template_file.empty()) {
    PEFT_ASSIGN_OR_RETURN(tmpl, load_chat_template_file(a.template_file));
  } else {
    PEFT_ASSIGN_OR_RETURN(tmpl, load_model_chat_template(a.model));
  }
  std::ifstream f(a.messages);
  if (!f) return Status::errorf("{}: cannot open", a.messages);
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::errorf("{}: not valid JSON", a.messages);
  ChatRenderOptions o;
  nlohmann::ordered_json messages = doc;
  if (doc.is_object()) {  // {"messages": [...], "tools": [...], ...}: the other keys become variables
    if (!doc.contains("messages"))
      return Status::errorf("{}: expected a list of messages or {{\"messages\": [...]}}", a.messages);
    messages = doc["messages"];
    for (auto it = doc.begin(); it != doc.end(); ++it)
      if (it.key() != "messages") o.extra[it.key()] = it.value();
  }
  if (!messages.is_array()) return Status::errorf("{}: messages must be a list", a.messages);
  for (size_t k = 0; k < messages.size(); ++k)
    if (!messages[k].is_object())
      return Status::errorf("{}: message {} must be an object with a role and content", a.messages, k);
  for (const std::string& v : a.vars) {
    const size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0) return Status::errorf("--var '{}': expected NAME=JSON", v);
    nlohmann::ordered_json value = nlohmann::ordered_json::parse(v.substr(eq + 1), nullptr, false);
    if (value.is_discarded()) value = v.substr(eq + 1);  // a bare word is a string
    o.extra[v.substr(0, eq)] = value;
  }
  o.add_generation_prompt = a.add_generation_prompt;
  o.bos_token = a.bos_token.value_or(tmpl.bos_token);
  o.eos_token = a.eos_token.value_or(tmpl.eos_token);
  o.today = a.date;
  PEFT_ASSIGN_OR_RETURN(std::string text, render_chat(tmpl, messages, o));
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    return Status::error("cannot write the rendered text to stdout");
  return Status::ok();
}

}  // namespace

void add_chat_template(CLI::App& app, Action& action) {
  auto args = std::make_shared<ChatTemplateArgs>();
  CLI::App* sub = app.add_subcommand("chat-template", "render a conversation with a chat template, exactly");
  sub->add_option("--template", args->template_file, "a chat template file (.jinja)");
  sub->add_option("--model", args->model, "a model folder: its chat_template.jinja or tokenizer_config.json's");
  sub->add_option("--messages", args->messages,
                  "JSON file: a list of {role, content} messages, or {\"messages\": [...], other variables}")
      ->required();
  sub->add_flag("--add-generation-prompt", args->add_generation_prompt, "end with the assistant turn's opening");
  sub->add_option("--bos-token", args->bos_token, "bos_token (default: the model's, else empty)");
  sub->add_option("--eos-token", args->eos_token, "eos_token (default: the model's, else empty)");
  sub->add_option("--date", args->date, "strftime_now's date, YYYY-MM-DD (default: today)")
      ->check(CLI::Validator(
          [](std::string& s) {
            return s.size() == 10 && s[4] == '-' && s[7] == '-' ? std::string() : std::string("expected YYYY-MM-DD");
          },
          "YYYY-MM-DD"));
  sub->add_option("--var", args->vars, "NAME=JSON: another template variable (e.g. enable_thinking=false)");
  sub->callback([args, &action] { action = [args] { return run_chat_template(*args); }; });
}

}  // namespace peft::cli
