// String -> id hash map that can be searched with a string_view (no temporary strings).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace peft {

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <typename V>
using StringMap = std::unordered_map<std::string, V, StringViewHash, std::equal_to<>>;

using TokenMap = StringMap<int32_t>;

inline int32_t find_token(const TokenMap& map, std::string_view s) {
  auto it = map.find(s);
  return it == map.end() ? -1 : it->second;
}

}  // namespace peft
