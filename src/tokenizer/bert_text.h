// BERT's text pre-processing before WordPiece (transformers' BasicTokenizer; the Rust
// BertNormalizer + BertPreTokenizer): clean, space out CJK, lowercase, strip accents, split.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/token_map.h"

namespace peft {

struct BertBasicOptions {
  // do_basic_tokenize; false: the words are the text split at whitespace, nothing else.
  bool enabled = true;
  // Drop NUL, U+FFFD and control characters (category C*, but \t \n \r), map whitespace
  // (Zs, \t \n \r) to ' '.
  bool clean_text = true;
  bool handle_chinese_chars = true;  // a space either side of each CJK ideograph
  bool lowercase = true;
  std::optional<bool> strip_accents;  // NFD, then drop Mn marks; unset: as lowercase
  // The slow BasicTokenizer NFC-normalizes after cleaning; the Rust BertNormalizer does not.
  bool nfc = true;
};

// A word for WordPiece, or one of never_split to look up as it is.
struct BertWord {
  std::string text;
  bool whole = false;
};

class BertBasicTokenizer {
 public:
  BertBasicTokenizer() = default;
  // never_split: words kept as they are (not lowercased, stripped or split at punctuation)
  // and not cut into word pieces.
  BertBasicTokenizer(BertBasicOptions options, const std::vector<std::string>& never_split);

  // The words of `text` (a stretch between special tokens), appended to `out`. Bytes that
  // are not UTF-8 read as U+FFFD, which cleaning drops.
  void split(std::string_view text, std::vector<BertWord>& out) const;

 private:
  void add_word(std::u32string token, std::vector<BertWord>& out) const;
  BertBasicOptions options_;
  StringMap<bool> never_split_;
};

// Python's str.lower() one code point at a time: what transformers' slow tokenizers do to
// the text around special tokens, and what Rust's NormalizedString::lowercase does. Unlike
// whole-string lowercasing there is no final-sigma rule ("ΣΑΣ" -> "σασ"); "İ" -> "i̇".
std::string lowercase_chars(std::string_view text);

// Python's str.isspace() (what str.split() and str.strip() cut at).
bool is_python_space(uint32_t cp);

// transformers' _is_punctuation: all non-alphanumeric printable ASCII, and Unicode P*.
bool is_punctuation(uint32_t cp);

}  // namespace peft
