// Added tokens: cut the input at their contents first, so they map straight to their ids.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer_spec.h"

namespace peft {

// A piece of the input: plain text (id < 0) or one added token (id >= 0).
struct TextSegment {
  std::string_view text;
  int32_t id = -1;
  bool at_start = false;  // begins at offset 0 of the original input
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // Tokens with empty content are ignored.
  explicit AddedTokenMatcher(std::vector<AddedTokenSpec> tokens);
  bool empty() const { return tokens_.empty(); }

  // Hugging Face's AddedVocabulary::split_with_indices: leftmost-longest matches, skipped
  // when single_word and glued to a word character, widened over whitespace by
  // lstrip/rstrip (the whitespace goes with the token). Appends to `out`.
  void split(std::string_view text, bool at_start, std::vector<TextSegment>& out) const;

 private:
  std::vector<AddedTokenSpec> tokens_;
  std::array<std::vector<int32_t>, 256> by_first_byte_;  // indices, longest content first
};

}  // namespace peft
