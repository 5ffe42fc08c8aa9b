// A bracket-and-string scanner over a JSON array's top level.
#include "io/json_array_split.h"

#include <cctype>

namespace peft {

namespace {
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}
}  // namespace

std::optional<std::vector<std::string_view>> split_json_array(std::string_view text) {
  text = trimmed(text);
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') return std::nullopt;
  std::vector<std::string_view> out;
  int depth = 0;
  bool in_string = false;
  size_t start = 1;
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // skip the escaped character
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{')
      ++depth;
    else if (c == ']' || c == '}') {
      if (--depth < 0) return std::nullopt;
    } else if (c == ',' && depth == 0) {
      const std::string_view e = trimmed(text.substr(start, i - start));
      if (e.empty()) return std::nullopt;
      out.push_back(e);
      start = i + 1;
    }
  }
  if (in_string || depth != 0) return std::nullopt;
  const std::string_view last = trimmed(text.substr(start, text.size() - 1 - start));
  if (!last.empty())
    out.push_back(last);
  else if (!out.empty())
    return std::nullopt;  // trailing comma
  return out;
}

}  // namespace peft
