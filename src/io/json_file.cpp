// JSON files and typed field access with messages naming the file, the key and the types.
#include "io/json_file.h"

#include <limits>
#include <string_view>

#include "io/atomic_output.h"
#include "io/mapped_file.h"

namespace peft {

std::string json_error_text(const Json::exception& e) {
  std::string_view s = e.what();
  if (s.starts_with("[json.exception.")) {
    size_t close = s.find("] ");
    if (close != std::string_view::npos) s.remove_prefix(close + 2);
  }
  return std::string(s);
}

std::string json_parse_error_detail(const Json::parse_error& e) {
  std::string s = json_error_text(e);
  const std::string prefix = "parse error at ";
  size_t colon = s.find(": ");
  if (s.starts_with(prefix) && colon != std::string::npos)
    return "(" + s.substr(prefix.size(), colon - prefix.size()) + ")" + s.substr(colon);
  return ": " + s;
}

namespace {

// Describes a JSON value for "expected X, found Y" messages, with short scalars shown.
std::string describe(const Json& v) {
  auto shown = [&](const char* kind) {
    std::string text = v.dump();
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return std::string(kind) + " " + text;
  };
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    case Json::value_t::string:
      return shown("string");
    case Json::value_t::boolean:
      return shown("boolean");
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return shown("integer");
    case Json::value_t::number_float:
      return shown("number");
    default:
      return v.type_name();
  }
}

Status wrong_type(const std::string& where, const std::string& key, const char* expected, const Json& v) {
  return Status::errorf("{}: field '{}' must be {}, found {}", where, key, expected, describe(v));
}

// The field, or nullptr when absent or null (so optional getters can fall back).
Result<const Json*> lookup(const Json& obj, const std::string& key, const std::string& where) {
  if (!obj.is_object()) return Status::errorf("{}: expected a JSON object, found {}", where, describe(obj));
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return static_cast<const Json*>(nullptr);
  return &*it;
}

Result<const Json*> require(const Json& obj, const std::string& key, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(const Json* v, lookup(obj, key, where));
  if (v == nullptr) return Status::errorf("{}: field '{}' missing", where, key);
  return v;
}

// Floats are rejected even when integral (64.0): a config writing them is suspicious
// and silently truncating 64.5 would be worse.
Result<int64_t> as_int(const Json& v, const std::string& key, const std::string& where) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(std::numeric_limits<int64_t>::max()))
      return Status::errorf("{}: field '{}' is {}, out of the int64 range", where, key, u);
    return int64_t(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  return wrong_type(where, key, "an integer", v);
}

// Integers are fine where a float is expected ("rope_theta": 10000).
Result<double> as_float(const Json& v, const std::string& key, const std::string& where) {
  if (v.is_number()) return v.get<double>();
  return wrong_type(where, key, "a number", v);
}

Result<bool> as_bool(const Json& v, const std::string& key, const std::string& where) {
  if (v.is_boolean()) return v.get<bool>();
  return wrong_type(where, key, "a boolean", v);
}

Result<std::string> as_string(const Json& v, const std::string& key, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  return wrong_type(where, key, "a string", v);
}

}  // namespace

Status check_json_depth(std::string_view text, const std::string& where) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return Status::errorf("{}: JSON nested deeper than {} levels (at byte {})", where, kMaxJsonDepth, i);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return Status::ok();
}

Result<Json> parse_json_text(std::string_view text, const std::string& where) {
  PEFT_TRY(check_json_depth(text, where));
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    return Status::errorf("{}: invalid JSON at byte {} {}", where, e.byte, json_parse_error_detail(e));
  } catch (const Json::exception& e) {  // e.g. out_of_range for "1e999"
    return Status::errorf("{}: invalid JSON: {}", where, json_error_text(e));
  }
}

Result<Json> read_json_file(const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(auto file, MappedFile::open(path));
  return parse_json_text(std::string_view(reinterpret_cast<const char*>(file->data()), file->size()), path);
}

Status write_json_file(const std::string& path, const Json& value) {
  std::string text;
  try {
    text = value.dump(2) + "\n";
  } catch (const Json::exception& e) {  // e.g. a string that is not valid UTF-8
    return Status::errorf("{}: cannot serialise JSON: {}", path, json_error_text(e));
  }
  return write_file_atomic(path, text);
}

Result<int64_t> json_get_int(const Json& obj, const std::string& key, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(const Json* v, require(obj, key, where));
  return as_int(*v, key, where);
}

Result<double> json_get_float(const Json& obj, const std::string& key, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(const Json* v, require(obj, key, where));
  return as_float(*v, key, where);
}

Result<bool> json_get_bool(const Json& obj, const std::string& key, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(const Json* v, require(obj, key, where));
  return as_bool(*v, key, where);
}

Result<std::string> json_get_string(const Json& obj, const std::string& key, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(const Json* v, require(obj, key, where));
  return as_string(*v, key, where);
}

Result<int64_t> json_get_int_or(const Json& obj, const std::string& key, int64_t fallback, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(const Json* v, lookup(obj, key, where));
  if (v == nullptr) return fallback;
  return as_int(*v, key, where);
}

Result<double> json_get_float_or(const Json& obj, const std::string& key, double fallback, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(const Json* v, lookup(obj, key, where));
  if (v == nullptr) return fallback;
  return as_float(*v, key, where);
}

Result<bool> json_get_bool_or(const Json& obj, const std::string& key, bool fallback, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(const Json* v, lookup(obj, key, where));
  if (v == nullptr) return fallback;
  return as_bool(*v, key, where);
}

Result<std::string> json_get_string_or(const Json& obj, const std::string& key, const std::string& fallback,
                                       const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(const Json* v, lookup(obj, key, where));
  if (v == nullptr) return fallback;
  return as_string(*v, key, where);
}

}  // namespace peft
