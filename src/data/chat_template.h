// A model's chat template, rendered as transformers' apply_chat_template does (Jinja2 with
// trim_blocks, lstrip_blocks, loopcontrols, raise_exception, strftime_now and a tojson that keeps
// non-ASCII), by the project's own Jinja subset (data/jinja/).
#pragma once
#include <memory>
#include <string>

#include "core/status.h"
#include "io/json_file.h"

namespace peft {

namespace jinja {
struct Template;
}

struct ChatTemplate {
  std::string where;  // the file it came from, for errors
  std::shared_ptr<const jinja::Template> parsed;
  std::string bos_token, eos_token;  // tokenizer_config.json's, when it came from a model
};

// A template file (.jinja text). Syntax errors name the file and line.
Result<ChatTemplate> load_chat_template_file(const std::string& path);
// A model folder's template: chat_template.jinja, else tokenizer_config.json's chat_template
// (a string, or a list of {name, template} whose "default" is taken); with its bos/eos tokens.
Result<ChatTemplate> load_model_chat_template(const std::string& model_dir);
// The template's source text parsed; `where` names it in errors.
Result<ChatTemplate> parse_chat_template(const std::string& source, const std::string& where);

struct ChatRenderOptions {
  bool add_generation_prompt = false;
  std::string bos_token, eos_token;
  // strftime_now's clock: "YYYY-MM-DD" (reproducible renders), empty for the current date.
  std::string today;
  // More variables for the template (tools, enable_thinking, ...): a JSON object.
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
};

// messages: a JSON list of {"role", "content", ...} objects, passed to the template as they are.
// A template's raise_exception("msg") fails with exactly "<where>: msg".
Result<std::string> render_chat(const ChatTemplate& tmpl, const nlohmann::ordered_json& messages,
                                const ChatRenderOptions& options);

}  // namespace peft
