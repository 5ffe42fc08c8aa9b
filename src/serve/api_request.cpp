// Parsing of completion/chat request bodies: types checked field by field, unsupported
// semantics refused, nothing guessed.
#include "serve/api_request.h"

#include <cmath>
#include <variant>

namespace peft::serve {

Json ApiError::body() const {
  Json e = {{"message", message},
            {"type", status == 404   ? "NotFoundError"
                     : status >= 500 ? "ServerError"
                                     : "invalid_request_error"}};
  e["param"] = param.empty() ? Json(nullptr) : Json(param);
  e["code"] = code.empty() ? Json(nullptr) : Json(code);
  return Json{{"error", e}};
}

namespace {

ApiError bad(const std::string& param, const std::string& message) {
  return ApiError{400, "'" + param + "': " + message, param, "invalid_value"};
}

const char* type_name(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

// Present and not null.
const Json* field(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::optional<ApiError> get_int(const Json& obj, const char* key, int64_t lo, int64_t hi, int64_t& out) {
  const Json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer() && !(v->is_number_float() && std::floor(v->get<double>()) == v->get<double>()))
    return bad(key, std::string("expected an integer, found ") + type_name(*v));
  const double d = v->get<double>();
  if (d < double(lo) || d > double(hi))
    return bad(key, fmt::format("must be in [{}, {}], found {}", lo, hi, v->dump()));
  out =
      v->is_number_integer() ? (v->is_number_unsigned() ? int64_t(v->get<uint64_t>()) : v->get<int64_t>()) : int64_t(d);
  return std::nullopt;
}

std::optional<ApiError> get_float(const Json& obj, const char* key, double lo, double hi, double& out) {
  const Json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_number()) return bad(key, std::string("expected a number, found ") + type_name(*v));
  const double d = v->get<double>();
  if (!(d >= lo && d <= hi)) return bad(key, fmt::format("must be in [{}, {}], found {}", lo, hi, v->dump()));
  out = d;
  return std::nullopt;
}

std::optional<ApiError> get_bool(const Json& obj, const char* key, bool& out) {
  const Json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) return bad(key, std::string("expected a boolean, found ") + type_name(*v));
  out = v->get<bool>();
  return std::nullopt;
}

// Fields whose non-default value would change what is generated, and that this server does
// not implement: refused rather than ignored.
std::optional<ApiError> refuse_unsupported(const Json& obj, bool chat) {
  struct Unsupported {
    const char* key;
    Json neutral;  // the value that means "off"
  };
  const Unsupported fields[] = {{"n", 1},
                                {"best_of", 1},
                                {"presence_penalty", 0},
                                {"frequency_penalty", 0},
                                {"repetition_penalty", 1},
                                {"min_p", 0},
                                {"logit_bias", Json::object()},
                                {"echo", false},
                                {"suffix", ""},
                                {"tools", Json::array()},
                                {"tool_choice", "none"},
                                {"functions", Json::array()},
                                {"response_format", Json{{"type", "text"}}},
                                {"use_beam_search", false},
                                {"min_tokens", 0},
                                {"stop_token_ids", Json::array()},
                                {"guided_json", nullptr},
                                {"guided_regex", nullptr},
                                {"grammar", ""},
                                {"prompt_logprobs", 0}};
  for (const Unsupported& u : fields) {
    const Json* v = field(obj, u.key);
    if (!v) continue;
    if (*v == u.neutral || (v->is_number() && u.neutral.is_number() && v->get<double>() == u.neutral.get<double>()))
      continue;
    return ApiError{400, std::string("'") + u.key + "' = " + v->dump() + " is not supported by this server", u.key,
                    "unsupported_parameter"};
  }
  return std::nullopt;
}

std::optional<ApiError> parse_stop(const Json& obj, GenerationParams& p) {
  const Json* v = field(obj, "stop");
  if (!v) return std::nullopt;
  if (v->is_string()) {
    if (!v->get<std::string>().empty()) p.stop.push_back(v->get<std::string>());
    return std::nullopt;
  }
  if (!v->is_array())
    return bad("stop", std::string("expected a string or an array of strings, found ") + type_name(*v));
  if (v->size() > 16) return bad("stop", fmt::format("at most 16 stop strings, found {}", v->size()));
  for (const Json& s : *v) {
    if (!s.is_string()) return bad("stop", std::string("expected strings, found ") + type_name(s));
    if (!s.get<std::string>().empty()) p.stop.push_back(s.get<std::string>());
  }
  return std::nullopt;
}

std::optional<ApiError> parse_prompt(const Json& obj, GenerationParams& p) {
  const Json* v = field(obj, "prompt");
  if (!v) return ApiError{400, "'prompt' is required", "prompt", "missing_field"};
  const Json* one = v;
  if (v->is_array() && !v->empty() && (v->front().is_string() || v->front().is_array())) {
    if (v->size() != 1) return bad("prompt", "one prompt per request (a batch of prompts is not supported)");
    one = &v->front();
  }
  if (one->is_string()) {
    p.prompt = one->get<std::string>();
    return std::nullopt;
  }
  if (!one->is_array()) return bad("prompt", std::string("expected a string or token ids, found ") + type_name(*one));
  p.prompt_is_ids = true;
  for (const Json& id : *one) {
    if (!id.is_number_integer())
      return bad("prompt", std::string("token ids must be integers, found ") + type_name(id));
    const int64_t x =
        id.is_number_unsigned() ? int64_t(std::min<uint64_t>(id.get<uint64_t>(), 1ull << 40)) : id.get<int64_t>();
    if (x < 0 || x > INT32_MAX) return bad("prompt", fmt::format("token id {} is out of range", id.dump()));
    p.prompt_ids.push_back(int32_t(x));
  }
  return std::nullopt;
}

std::optional<ApiError> parse_messages(const Json& obj, GenerationParams& p) {
  const Json* v = field(obj, "messages");
  if (!v) return ApiError{400, "'messages' is required", "messages", "missing_field"};
  if (!v->is_array() || v->empty()) return bad("messages", "expected a non-empty array of messages");
  p.messages = nlohmann::ordered_json::array();
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& m = (*v)[i];
    const std::string where = fmt::format("messages[{}]", i);
    if (!m.is_object()) return bad(where, std::string("expected an object, found ") + type_name(m));
    const Json* role = field(m, "role");
    if (!role || !role->is_string()) return bad(where + ".role", "expected a string");
    const std::string r = role->get<std::string>();
    if (r != "system" && r != "user" && r != "assistant" && r != "developer")
      return bad(where + ".role", "expected system, developer, user or assistant, found '" + r + "'");
    const Json* content = field(m, "content");
    std::string text;
    if (!content) return bad(where + ".content", "expected a string");
    if (content->is_string()) {
      text = content->get<std::string>();
    } else if (content->is_array()) {  // [{"type": "text", "text": "..."}]
      for (const Json& part : *content) {
        const Json* type = part.is_object() ? field(part, "type") : nullptr;
        const Json* t = part.is_object() ? field(part, "text") : nullptr;
        if (!type || *type != "text" || !t || !t->is_string())
          return bad(where + ".content", "only text parts ({\"type\": \"text\", \"text\": ...}) are supported");
        text += t->get<std::string>();
      }
    } else {
      return bad(where + ".content", std::string("expected a string or text parts, found ") + type_name(*content));
    }
    p.messages.push_back({{"role", r == "developer" ? "system" : r}, {"content", text}});
  }
  return std::nullopt;
}

std::optional<ApiError> parse_lora(const Json& obj, GenerationParams& p) {
  const Json* v = field(obj, "lora");
  if (!v) return std::nullopt;
  if (!v->is_array()) return bad("lora", std::string("expected an array of {id, scale}, found ") + type_name(*v));
  if (v->size() > 16) return bad("lora", "at most 16 adapters per request");
  for (const Json& e : *v) {
    if (!e.is_object()) return bad("lora", "expected objects {\"id\": i, \"scale\": s}");
    LoraChoice c;
    if (!field(e, "id")) return bad("lora", "every entry needs an 'id'");
    if (auto err = get_int(e, "id", 0, 1 << 20, c.id)) return bad("lora", err->message);
    if (auto err = get_float(e, "scale", -100.0, 100.0, c.scale)) return bad("lora", err->message);
    p.lora.push_back(c);
  }
  return std::nullopt;
}

#define PEFT_SERVE_TRY(expr) \
  if (auto err_ = (expr)) return *err_

}  // namespace

std::variant<GenerationParams, ApiError> parse_generation_request(const std::string& body, bool chat,
                                                                  const ParseLimits& limits) {
  auto parsed = parse_json_text(body, "request body");
  if (!parsed.is_ok()) return ApiError{400, parsed.status().message(), "", "invalid_json"};
  const Json& obj = *parsed;
  if (!obj.is_object())
    return ApiError{400, std::string("the request body must be a JSON object, found ") + type_name(obj), "",
                    "invalid_json"};
  GenerationParams p;
  p.chat = chat;
  if (const Json* m = field(obj, "model")) {
    if (!m->is_string()) return bad("model", std::string("expected a string, found ") + type_name(*m));
    p.model = m->get<std::string>();
  }
  PEFT_SERVE_TRY(refuse_unsupported(obj, chat));
  PEFT_SERVE_TRY(chat ? parse_messages(obj, p) : parse_prompt(obj, p));
  PEFT_SERVE_TRY(get_int(obj, "max_tokens", 1, limits.max_tokens, p.max_tokens));
  if (chat) PEFT_SERVE_TRY(get_int(obj, "max_completion_tokens", 1, limits.max_tokens, p.max_tokens));
  PEFT_SERVE_TRY(get_float(obj, "temperature", 0.0, 100.0, p.temperature));
  PEFT_SERVE_TRY(get_float(obj, "top_p", 1e-9, 1.0, p.top_p));
  PEFT_SERVE_TRY(get_int(obj, "top_k", -1, 1 << 30, p.top_k));
  if (p.top_k < 0) p.top_k = 0;  // vLLM's -1 = off
  if (field(obj, "seed")) {
    int64_t seed = 0;
    PEFT_SERVE_TRY(get_int(obj, "seed", INT64_MIN, INT64_MAX, seed));
    p.seed = uint64_t(seed);
  }
  PEFT_SERVE_TRY(parse_stop(obj, p));
  PEFT_SERVE_TRY(get_bool(obj, "ignore_eos", p.ignore_eos));
  PEFT_SERVE_TRY(get_bool(obj, "stream", p.stream));
  if (const Json* so = field(obj, "stream_options")) {
    if (!so->is_object()) return bad("stream_options", "expected an object");
    PEFT_SERVE_TRY(get_bool(*so, "include_usage", p.include_usage));
  }
  if (chat) {
    bool want = false;
    PEFT_SERVE_TRY(get_bool(obj, "logprobs", want));
    int64_t top = 0;
    PEFT_SERVE_TRY(get_int(obj, "top_logprobs", 0, 20, top));
    if (field(obj, "top_logprobs") && !want) return bad("top_logprobs", "needs 'logprobs': true");
    if (want) p.logprobs = top;
  } else if (field(obj, "logprobs")) {
    int64_t n = 0;
    PEFT_SERVE_TRY(get_int(obj, "logprobs", 0, 20, n));
    p.logprobs = n;
  }
  PEFT_SERVE_TRY(parse_lora(obj, p));
  return p;
}

std::variant<LoraAdapterRequest, ApiError> parse_lora_adapter_request(const std::string& body, bool load) {
  auto parsed = parse_json_text(body, "request body");
  if (!parsed.is_ok()) return ApiError{400, parsed.status().message(), "", "invalid_json"};
  const Json& obj = *parsed;
  if (!obj.is_object()) return ApiError{400, "the request body must be a JSON object", "", "invalid_json"};
  LoraAdapterRequest r;
  const Json* name = field(obj, "lora_name");
  if (!name || !name->is_string() || name->get<std::string>().empty())
    return bad("lora_name", "expected a non-empty string");
  r.name = name->get<std::string>();
  if (load) {
    const Json* path = field(obj, "lora_path");
    if (!path || !path->is_string() || path->get<std::string>().empty())
      return bad("lora_path", "expected a non-empty string");
    r.path = path->get<std::string>();
  }
  return r;
}

}  // namespace peft::serve
