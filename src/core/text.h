// Small text helpers shared by data/ and eval/.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace peft {

// Python's str.strip() for ASCII whitespace.
std::string_view strip_ws(std::string_view s);

// re.findall(r'-?\d+\.?\d*', text): non-overlapping matches, left to right (the numbers
// LLM-Adapters' math evaluation reads answers from).
std::vector<std::string> find_numbers(std::string_view text);

}  // namespace peft
