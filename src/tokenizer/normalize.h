// Normalizers of a tokenizer.json pipeline (NFC & co. via ICU, Prepend, Replace, Lowercase, Strip).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/regex.h"
#include "tokenizer/tokenizer_spec.h"

namespace peft {

// Replace all non-overlapping occurrences of a literal or a regex.
class Replacer {
 public:
  static Result<Replacer> build(const PatternSpec& pattern, std::string content, const std::string& where);
  std::string apply(std::string_view text) const;

 private:
  std::string literal_, content_;
  bool is_regex_ = false;
  Regex regex_;
};

class Normalizer {
 public:
  static Result<Normalizer> build(const std::vector<NormalizerStep>& steps, const std::string& where);
  bool empty() const { return steps_.empty(); }
  // The steps in order. Invalid UTF-8 reaching a Unicode step becomes U+FFFD there.
  std::string apply(std::string_view text) const;

 private:
  struct Step {
    NormalizerStep spec;
    Replacer replace;
  };
  std::vector<Step> steps_;
};

}  // namespace peft
