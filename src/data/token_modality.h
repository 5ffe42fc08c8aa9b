// Per-token modality ids from a record's segments: character spans of the rendered prompt
// mapped onto the tokens a tokenizer made of it, without the tokenizer reporting offsets.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "data/dataset.h"
#include "data/tokenize_example.h"
#include "tokenizer/tokenizer.h"

namespace peft {

// For every id of `ids` (the tokens of `text` or of a prefix of it, specials included): the
// byte offset in `text` of the token's last character, the one holding its last byte (a
// token that only begins a character split over byte tokens counts it), or -1 when the token
// has no bytes of the text (special tokens).
// The Tokenizer interface has no offsets, so: where each token ends in the decoded text D
// comes from decoding (token_ends.h), and D is lined up with `text` character by character,
// whitespace allowed to differ (SentencePiece normalisers squeeze and drop it; decoders add
// or drop the leading space).
// A replacement character in D (U+FFFD, an invalid byte, SentencePiece's ⁇) stands for one
// character of `text`. Any other difference is an error saying where (no file: the caller
// names the record).
Result<std::vector<int64_t>> token_last_chars(const Tokenizer& tokenizer, std::string_view text,
                                              std::span<const int32_t> ids);

// (T) the modality id of every id in `ids` (record_prompt(record) tokenized, possibly
// truncated, BOS/EOS included): the index in `modalities` of the segment holding the token's
// last character, so a token straddling a boundary goes with its last character; 0 (text)
// outside every segment and for special tokens; a token with no character of its own (only
// whitespace the decoder inserted) takes the next one's. Empty when the record has
// no segments. Errors name record.where: a modality not in `modalities`, or a decode that
// does not line up with the prompt.
Result<std::vector<int32_t>> token_modalities(const Tokenizer& tokenizer, const Record& record,
                                              std::span<const int32_t> ids, std::span<const std::string> modalities);

// examples[i].modality = token_modalities(records[i], examples[i].ids), in parallel; the
// first failing record (in order) is the error.
Status assign_modalities(const Tokenizer& tokenizer, std::span<const Record> records,
                         std::span<TokenizedExample> examples, std::span<const std::string> modalities);

}  // namespace peft
