// Added-token matching on raw or normalized text (leftmost-longest, like an Aho-Corasick
// LeftmostLongest automaton, but a first-byte table suffices for a few hundred tokens).
#include "tokenizer/added_tokens.h"

#include <unicode/uchar.h>

#include <algorithm>

#include "tokenizer/utf8.h"

namespace peft {
namespace {

// Rust's char::is_alphanumeric, plus '_' (what single_word treats as part of a word).
bool is_word_char(uint32_t cp) {
  if (cp == '_') return true;
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  const int8_t type = u_charType(UChar32(cp));
  return u_hasBinaryProperty(UChar32(cp), UCHAR_ALPHABETIC) || type == U_DECIMAL_DIGIT_NUMBER ||
         type == U_LETTER_NUMBER || type == U_OTHER_NUMBER;
}

bool ends_with_word(std::string_view s) { return !s.empty() && is_word_char(utf8::last_char(s)); }

bool starts_with_word(std::string_view s) {
  return !s.empty() && utf8::valid_char_len(s, 0) != 0 && is_word_char(utf8::decode(s, 0));
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedTokenSpec> tokens) {
  for (AddedTokenSpec& t : tokens)
    if (!t.content.empty()) tokens_.push_back(std::move(t));
  for (size_t i = 0; i < tokens_.size(); ++i) {
    by_first_byte_[static_cast<unsigned char>(tokens_[i].content[0])].push_back(int32_t(i));
  }
  for (auto& list : by_first_byte_) {
    std::stable_sort(list.begin(), list.end(),
                     [&](int32_t a, int32_t b) { return tokens_[a].content.size() > tokens_[b].content.size(); });
  }
}

void AddedTokenMatcher::split(std::string_view text, bool at_start, std::vector<TextSegment>& out) const {
  size_t start_offset = 0;
  for (size_t i = 0; i < text.size();) {
    const AddedTokenSpec* found = nullptr;
    for (int32_t k : by_first_byte_[static_cast<unsigned char>(text[i])]) {
      const std::string& c = tokens_[k].content;
      if (text.compare(i, c.size(), c) == 0) {
        found = &tokens_[k];
        break;
      }
    }
    if (!found) {
      ++i;
      continue;
    }
    size_t start = i, stop = i + found->content.size();
    i = stop;
    if (found->single_word && (ends_with_word(text.substr(0, start)) || starts_with_word(text.substr(stop)))) continue;
    if (found->lstrip) {
      while (start > start_offset) {
        size_t s = start - 1;
        while (s > start_offset && (static_cast<unsigned char>(text[s]) & 0xC0) == 0x80) --s;
        if (utf8::valid_char_len(text, s) != start - s || !utf8::is_whitespace(utf8::decode(text, s))) break;
        start = s;
      }
    }
    if (found->rstrip) {
      while (stop < text.size()) {
        const size_t n = utf8::valid_char_len(text, stop);
        if (n == 0 || !utf8::is_whitespace(utf8::decode(text, stop))) break;
        stop += n;
      }
      i = stop;
    }
    if (start_offset < start)
      out.push_back({text.substr(start_offset, start - start_offset), -1, at_start && start_offset == 0});
    out.push_back({text.substr(start, stop - start), found->id, at_start && start == 0});
    start_offset = stop;
  }
  if (start_offset < text.size()) out.push_back({text.substr(start_offset), -1, at_start && start_offset == 0});
}

}  // namespace peft
