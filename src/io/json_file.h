// Reading and writing JSON files with errors that name the file and the field.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace peft {

using Json = nlohmann::json;

// Parse a JSON file; errors say "<path>: <what>" (missing file, parse error with byte offset).
Result<Json> read_json_file(const std::string& path);

// JSON nests at most this deep here (real configs, tokenizers and data nest < 10): deeper
// text is refused before parsing, whose recursion would otherwise overflow the stack.
constexpr int kMaxJsonDepth = 128;
// "<where>: JSON nested deeper than 128 levels (at byte N)", or ok. Strings are skipped.
Status check_json_depth(std::string_view text, const std::string& where);
// Parses `text` after check_json_depth; errors name `where` and the byte.
Result<Json> parse_json_text(std::string_view text, const std::string& where);
// Pretty-print (indent 2) to `path` atomically (temp + rename).
Status write_json_file(const std::string& path, const Json& value);

// nlohmann's exception text without its "[json.exception.type.N] " tag, for messages.
std::string json_error_text(const Json::exception& e);
// "parse error at line 2, column 7: syntax error ..." → "(line 2, column 7): syntax error ...",
// so config and data errors read alike.
std::string json_parse_error_detail(const Json::parse_error& e);

// Typed field access; errors name the file (`where`), the key, expected and found types.
Result<int64_t> json_get_int(const Json& obj, const std::string& key, const std::string& where);
Result<double> json_get_float(const Json& obj, const std::string& key, const std::string& where);
Result<bool> json_get_bool(const Json& obj, const std::string& key, const std::string& where);
Result<std::string> json_get_string(const Json& obj, const std::string& key, const std::string& where);
// Optional variants: return `fallback` when the key is absent or null; a wrong type is an error.
Result<int64_t> json_get_int_or(const Json& obj, const std::string& key, int64_t fallback, const std::string& where);
Result<double> json_get_float_or(const Json& obj, const std::string& key, double fallback, const std::string& where);
Result<bool> json_get_bool_or(const Json& obj, const std::string& key, bool fallback, const std::string& where);
Result<std::string> json_get_string_or(const Json& obj, const std::string& key, const std::string& fallback,
                                       const std::string& where);

}  // namespace peft
