// tokenizer.json's "normalizer", "pre_tokenizer" and "decoder" objects -> pipeline steps.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"
#include "tokenizer/tokenizer_spec.h"

namespace peft {

// Each takes the JSON value (null: no steps) and the file path for messages; unknown
// types are errors that list the supported ones. Sequences are flattened.
Status parse_normalizer(const Json& j, const std::string& path, std::vector<NormalizerStep>& out);
Status parse_pre_tokenizer(const Json& j, const std::string& path, std::vector<PreTokenizerStep>& out);
Status parse_decoder(const Json& j, const std::string& path, std::vector<DecoderStep>& out);

// {"String": "..."} or {"Regex": "..."} (a bare string is taken as a literal).
Result<PatternSpec> parse_pattern(const Json& j, const std::string& where);

}  // namespace peft
