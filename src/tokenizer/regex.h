// PCRE2 regular expressions (UTF + Unicode properties) for the pre-tokenizers and normalizers.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace peft {

class Regex {
 public:
  // Compile `pattern` in UTF + UCP mode (\s, \w, \d and [[:classes:]] are Unicode-aware, as in
  // Hugging Face's Oniguruma and Rust regexes), JIT-compiled where PCRE2 supports it.
  // Errors: "<where>: invalid regex '<pattern>' at offset N: <reason>".
  static Result<Regex> compile(std::string_view pattern, const std::string& where);

  // [start, end) byte ranges of the non-overlapping matches in `text`, left to right.
  // `text` must be valid UTF-8 (callers split invalid bytes off first). After an empty
  // match the search resumes one character later.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Code;
  std::shared_ptr<const Code> code_;
  std::string pattern_;
};

}  // namespace peft
