// Top-level elements of a JSON array as spans of its text, so a large array of records can be
// parsed one element at a time instead of as one document tree (tens of bytes per byte read).
#pragma once
#include <optional>
#include <string_view>
#include <vector>

namespace peft {

// The text of each element of the array `text` holds (whitespace around it trimmed), or
// nullopt when `text` is not one array with balanced brackets and closed strings — callers
// then parse it whole to report the error. Elements themselves are not validated.
std::optional<std::vector<std::string_view>> split_json_array(std::string_view text);

}  // namespace peft
