// Where each token ends in the decoded text, for tokenizers that report no offsets.
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace peft {

// For the ids of one sequence and text = decode(ids): token k covers bytes
// [stop[k-1], stop[k]) of text (stop[-1] = 0); touch[k] >= stop[k] is one past its last
// byte counting a character it only begins (a decoder writing U+FFFD for a partial
// character shows nothing of it until a later token completes it). Special tokens cover nothing.
struct TokenEnds {
  std::string text;                 // (bytes) decode(ids)
  std::vector<size_t> stop, touch;  // (T) each
};

// Exact for every decoder: stop[k] = how far decode(ids[0..k]) agrees with text (kept
// non-decreasing). Decodes every prefix: quadratic in T.
TokenEnds token_ends_by_prefixes(const Tokenizer& tokenizer, std::span<const int32_t> ids);

// Linear: streaming detokenization (what vLLM and HF's TextStreamer do): decode a short
// window before and after each token and take the difference. Window decodes can differ
// from the whole (a window starting at a lone SentencePiece "▁" loses its space), so the
// pieces are checked against text as they go; nullopt when they do not add up to it.
std::optional<TokenEnds> token_ends_incremental(const Tokenizer& tokenizer, std::span<const int32_t> ids);

// The incremental result, or the prefix one where it is refused: always exact.
TokenEnds token_ends(const Tokenizer& tokenizer, std::span<const int32_t> ids);

}  // namespace peft
