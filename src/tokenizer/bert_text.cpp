// BasicTokenizer as transformers 4.31 runs it, over code points with ICU's character data
// (categories from ICU's Unicode version, which can differ from Python's for new characters).
#include "tokenizer/bert_text.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include "tokenizer/utf8.h"

namespace peft {
namespace {

std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8::valid_char_len(s, i);
    out += n ? char32_t(utf8::decode(s, i)) : U'\uFFFD';
    i += n ? n : 1;
  }
  return out;
}

std::string encode_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) utf8::append(out, c);
  return out;
}

bool is_ascii(std::u32string_view s) {
  for (char32_t c : s)
    if (c >= 0x80) return false;
  return true;
}

// transformers' _is_control: \t \n \r count as whitespace, not control.
bool is_control(uint32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  switch (u_charType(UChar32(cp))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_UNASSIGNED:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE:
      return true;
    default:
      return false;
  }
}

bool is_bert_whitespace(uint32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || u_charType(UChar32(cp)) == U_SPACE_SEPARATOR;
}

// The CJK Unified Ideographs blocks BERT spaces out (not kana or Hangul, which are written
// with spaces between words).
bool is_chinese_char(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

void lowercase_into(std::u32string& s) {
  std::u32string out;
  out.reserve(s.size());
  for (char32_t c : s) {
    if (c < 0x80) {
      out += c >= 'A' && c <= 'Z' ? char32_t(c - 'A' + 'a') : c;
    } else if (c == 0x130) {
      out += U"i\u0307";  // İ: the one unconditional multi-character lowercase mapping
    } else {
      out += char32_t(u_tolower(UChar32(c)));
    }
  }
  s.swap(out);
}

std::u32string icu_normalize(const std::u32string& s, bool nfd) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = nfd ? icu::Normalizer2::getNFDInstance(status) : icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status) || !n) return s;
  const icu::UnicodeString u =
      icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(s.data()), int32_t(s.size()));
  const icu::UnicodeString normalized = n->normalize(u, status);
  if (U_FAILURE(status)) return s;
  std::u32string out(size_t(normalized.countChar32()), U'\0');
  normalized.toUTF32(reinterpret_cast<UChar32*>(out.data()), int32_t(out.size()), status);
  return U_FAILURE(status) ? s : out;
}

void strip_accents(std::u32string& s) {
  if (is_ascii(s)) return;
  std::u32string out;
  for (char32_t c : icu_normalize(s, /*nfd=*/true))
    if (u_charType(UChar32(c)) != U_NON_SPACING_MARK) out += c;
  s.swap(out);
}

// Python's str.split(): runs of whitespace separate, none are kept.
std::vector<std::u32string> split_spaces(std::u32string_view s) {
  std::vector<std::u32string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || is_python_space(s[i])) {
      if (i > start) out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

// All non-alphanumeric ASCII counts, so "$", "^", "`" split off although Unicode calls them
// symbols.
bool is_punctuation(uint32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126))
    return true;
  switch (u_charType(UChar32(cp))) {
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
      return true;
    default:
      return false;
  }
}

bool is_python_space(uint32_t cp) { return utf8::is_whitespace(cp) || (cp >= 0x1C && cp <= 0x1F); }

std::string lowercase_chars(std::string_view text) {
  bool ascii = true;
  for (char c : text) ascii &= static_cast<unsigned char>(c) < 0x80;
  if (ascii) {
    std::string out(text);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return out;
  }
  std::u32string s = decode_utf8(text);
  lowercase_into(s);
  return encode_utf8(s);
}

BertBasicTokenizer::BertBasicTokenizer(BertBasicOptions options, const std::vector<std::string>& never_split)
    : options_(options) {
  for (const std::string& w : never_split) never_split_.insert_or_assign(w, true);
}

void BertBasicTokenizer::split(std::string_view text, std::vector<BertWord>& out) const {
  const std::u32string chars = decode_utf8(text);
  if (!options_.enabled) {
    for (std::u32string& w : split_spaces(chars)) out.push_back({encode_utf8(w), false});
    return;
  }
  std::u32string cleaned;
  cleaned.reserve(chars.size());
  for (char32_t c : chars) {
    if (options_.clean_text) {
      if (c == 0 || c == 0xFFFD || is_control(c)) continue;
      if (is_bert_whitespace(c)) c = ' ';
    }
    if (options_.handle_chinese_chars && is_chinese_char(c)) {
      cleaned += ' ';
      cleaned += c;
      cleaned += ' ';
    } else {
      cleaned += c;
    }
  }
  // (So a decomposed "é" and a precomposed one give the same word.)
  if (options_.nfc && !is_ascii(cleaned)) cleaned = icu_normalize(cleaned, /*nfd=*/false);
  for (std::u32string& token : split_spaces(cleaned)) add_word(std::move(token), out);
}

// One whitespace-separated token: normalized and cut at punctuation unless never_split has it.
void BertBasicTokenizer::add_word(std::u32string token, std::vector<BertWord>& out) const {
  std::string text = encode_utf8(token);
  if (never_split_.contains(text)) {
    out.push_back({std::move(text), true});
    return;
  }
  const bool strip = options_.strip_accents.value_or(options_.lowercase);
  if (options_.lowercase) lowercase_into(token);
  if (strip) strip_accents(token);
  // transformers tests never_split again on the normalized token and on every piece: such
  // words skip WordPiece too.
  if (options_.lowercase || strip) {
    text = encode_utf8(token);
    if (never_split_.contains(text)) {
      out.push_back({std::move(text), true});
      return;
    }
  }
  size_t start = 0;
  const auto emit = [&](size_t begin, size_t end) {
    if (end <= begin) return;
    std::string piece = encode_utf8(std::u32string_view(token).substr(begin, end - begin));
    const bool whole = never_split_.contains(piece);
    out.push_back({std::move(piece), whole});
  };
  for (size_t i = 0; i < token.size(); ++i) {
    if (!is_punctuation(token[i])) continue;
    emit(start, i);
    emit(i, i + 1);
    start = i + 1;
  }
  emit(start, token.size());
}

}  // namespace peft
