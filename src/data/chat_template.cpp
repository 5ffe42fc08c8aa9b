// Chat templates: where a model keeps its template, and the globals transformers gives it.
#include "data/chat_template.h"

#include <ctime>
#include <fstream>
#include <sstream>

#include "data/jinja/ast.h"
#include "data/jinja/interpreter.h"

namespace peft {

namespace {

Result<std::string> read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::errorf("{}: cannot open", path);
  std::ostringstream s;
  s << f.rdbuf();
  if (f.bad()) return Status::errorf("{}: read error", path);
  return s.str();
}

// tokenizer_config.json writes special tokens as strings or as AddedToken objects.
std::string token_text(const Json& config, const char* key) {
  if (!config.contains(key)) return "";
  const Json& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return "";
}

// strftime(fmt) at `today` (YYYY-MM-DD, midnight) or now, in the C locale as Python's default.
std::string format_date(const std::string& fmt, const std::string& today) {
  std::tm tm{};
  if (!today.empty()) {
    std::istringstream in(today);
    char dash1 = 0, dash2 = 0;
    in >> tm.tm_year >> dash1 >> tm.tm_mon >> dash2 >> tm.tm_mday;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    std::time_t t = timegm(&tm);  // normalises and fills the weekday
    gmtime_r(&t, &tm);
  } else {
    std::time_t t = std::time(nullptr);
    localtime_r(&t, &tm);
  }
  char buf[512];
  const size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &tm);
  return std::string(buf, n);
}

}  // namespace

Result<ChatTemplate> parse_chat_template(const std::string& source, const std::string& where) {
  ChatTemplate t;
  t.where = where;
  try {
    t.parsed = jinja::parse_template(source);
  } catch (const jinja::TemplateError& e) {
    return Status::errorf("{}: {}", where, e.what());
  } catch (const std::exception& e) {  // a bound or allocation failure: still the template's error
    return Status::errorf("{}: {}", where, e.what());
  }
  return t;
}

Result<ChatTemplate> load_chat_template_file(const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(std::string source, read_text(path));
  return parse_chat_template(source, path);
}

Result<ChatTemplate> load_model_chat_template(const std::string& model_dir) {
  const std::string config_path = model_dir + "/tokenizer_config.json";
  Json config = Json::object();
  std::ifstream probe(config_path);
  if (probe) {
    PEFT_ASSIGN_OR_RETURN(config, read_json_file(config_path));
  }
  ChatTemplate t;
  const std::string jinja_path = model_dir + "/chat_template.jinja";
  if (std::ifstream(jinja_path)) {
    PEFT_ASSIGN_OR_RETURN(t, load_chat_template_file(jinja_path));
  } else if (config.contains("chat_template")) {
    const Json& c = config["chat_template"];
    std::string source;
    if (c.is_string()) {
      source = c.get<std::string>();
    } else if (c.is_array()) {
      for (const Json& named : c)
        if (named.is_object() && named.value("name", "") == "default" && named.contains("template") &&
            named["template"].is_string())
          source = named["template"].get<std::string>();
      if (source.empty()) return Status::errorf("{}: chat_template has no template named 'default'", config_path);
    } else {
      return Status::errorf("{}: chat_template must be a string or a list of {{name, template}}", config_path);
    }
    PEFT_ASSIGN_OR_RETURN(t, parse_chat_template(source, config_path + " (chat_template)"));
  } else {
    return Status::errorf(
        "{}: the model has no chat template (neither chat_template.jinja nor a chat_template in "
        "tokenizer_config.json); pass one with --chat-template FILE",
        model_dir);
  }
  t.bos_token = token_text(config, "bos_token");
  t.eos_token = token_text(config, "eos_token");
  return t;
}

Result<std::string> render_chat(const ChatTemplate& tmpl, const nlohmann::ordered_json& messages,
                                const ChatRenderOptions& options) {
  using jinja::Value;
  if (!messages.is_array()) return Status::errorf("{}: messages must be a list", tmpl.where);
  jinja::Dict globals = {
      {"messages", Value::from_json(messages)},
      {"add_generation_prompt", Value::boolean(options.add_generation_prompt)},
      {"bos_token", Value::string(options.bos_token)},
      {"eos_token", Value::string(options.eos_token)},
  };
  for (auto it = options.extra.begin(); it != options.extra.end(); ++it)
    globals.emplace_back(it.key(), Value::from_json(it.value()));
  // The template's own error: raised with its message alone (transformers' TemplateError).
  struct Raised {
    std::string message;
  };
  globals.emplace_back("raise_exception", Value::function([](const jinja::CallArgs& a) -> Value {
                         throw Raised{a.positional.empty() ? "" : a.positional[0].str()};
                       }));
  const std::string today = options.today;
  globals.emplace_back("strftime_now", Value::function([today](const jinja::CallArgs& a) {
                         return Value::string(format_date(a.positional.empty() ? "" : a.positional[0].str(), today));
                       }));
  try {
    return jinja::render(*tmpl.parsed, globals);
  } catch (const Raised& r) {
    return Status::errorf("{}: {}", tmpl.where, r.message);
  } catch (const jinja::TemplateError& e) {
    return Status::errorf("{}: {}", tmpl.where, e.what());
  } catch (const std::exception& e) {
    return Status::errorf("{}: {}", tmpl.where, e.what());
  }
}

}  // namespace peft
