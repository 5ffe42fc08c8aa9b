// Pre-tokenizers of a tokenizer.json pipeline: ByteLevel, Split (and what reduces to it), Metaspace.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/regex.h"
#include "tokenizer/tokenizer_spec.h"

namespace peft {

// GPT-2's pre-tokenizer regex, used by ByteLevel(use_regex=true).
inline constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class PreTokenizer {
 public:
  static Result<PreTokenizer> build(const std::vector<PreTokenizerStep>& steps, const std::string& where);

  // Splits one normalized segment into the words the model encodes separately (mapped to
  // byte-level characters when ByteLevel is a step). `at_start`: the segment begins the
  // input (Metaspace's prepend_scheme "first" prepends only there). Appends to `out`.
  void apply(std::string_view segment, bool at_start, std::vector<std::string>& out) const;

 private:
  struct Step {
    PreTokenizerStep spec;
    Regex regex;  // Split with a regex pattern; ByteLevel with use_regex
  };
  std::vector<Step> steps_;
};

}  // namespace peft
