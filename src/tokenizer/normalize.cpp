// Normalizers: each step maps the whole string, as Hugging Face's do (alignments not kept).
#include "tokenizer/normalize.h"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include "tokenizer/utf8.h"

namespace peft {
namespace {

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

std::string unicode_normalize(std::string_view text, NormalizerStep::Kind kind) {
  if (is_ascii(text)) return std::string(text);  // ASCII is fixed by every normal form
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (kind) {
    case NormalizerStep::Kind::Nfc:
      n = icu::Normalizer2::getNFCInstance(status);
      break;
    case NormalizerStep::Kind::Nfd:
      n = icu::Normalizer2::getNFDInstance(status);
      break;
    case NormalizerStep::Kind::Nfkc:
      n = icu::Normalizer2::getNFKCInstance(status);
      break;
    default:
      n = icu::Normalizer2::getNFKDInstance(status);
      break;
  }
  if (U_FAILURE(status) || !n) return std::string(text);
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), int32_t(text.size())));
  icu::UnicodeString normalized = n->normalize(u, status);
  if (U_FAILURE(status)) return std::string(text);
  std::string out;
  normalized.toUTF8String(out);
  return out;
}

std::string lowercase(std::string_view text) {
  if (is_ascii(text)) {
    std::string out(text);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return out;
  }
  // Full Unicode lowercasing (final sigma included), like Rust's str::to_lowercase.
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), int32_t(text.size())));
  u.toLower(icu::Locale::getRoot());
  std::string out;
  u.toUTF8String(out);
  return out;
}

std::string strip(std::string_view text, bool left, bool right) {
  size_t b = 0, e = text.size();
  if (left) {
    while (b < e) {
      const size_t n = utf8::valid_char_len(text, b);
      if (n == 0 || !utf8::is_whitespace(utf8::decode(text, b))) break;
      b += n;
    }
  }
  if (right) {
    while (e > b) {
      size_t s = e - 1;
      while (s > b && (static_cast<unsigned char>(text[s]) & 0xC0) == 0x80) --s;
      const size_t n = utf8::valid_char_len(text, s);
      if (n != e - s || !utf8::is_whitespace(utf8::decode(text, s))) break;
      e = s;
    }
  }
  return std::string(text.substr(b, e - b));
}

}  // namespace

Result<Replacer> Replacer::build(const PatternSpec& pattern, std::string content, const std::string& where) {
  Replacer r;
  r.content_ = std::move(content);
  r.is_regex_ = pattern.is_regex;
  if (pattern.is_regex) {
    PEFT_ASSIGN_OR_RETURN(r.regex_, Regex::compile(pattern.text, where));
  } else {
    r.literal_ = pattern.text;
  }
  return r;
}

std::string Replacer::apply(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  size_t prev = 0;
  if (is_regex_) {
    if (!utf8::is_valid(text)) return std::string(text);  // regexes need UTF-8; leave bytes be
    for (auto [b, e] : regex_.find_all(text)) {
      out.append(text.substr(prev, b - prev));
      out += content_;
      prev = e;
    }
  } else {
    if (literal_.empty()) return std::string(text);
    for (size_t pos; (pos = text.find(literal_, prev)) != std::string_view::npos; prev = pos + literal_.size()) {
      out.append(text.substr(prev, pos - prev));
      out += content_;
    }
  }
  out.append(text.substr(prev));
  return out;
}

Result<Normalizer> Normalizer::build(const std::vector<NormalizerStep>& steps, const std::string& where) {
  Normalizer n;
  for (const NormalizerStep& s : steps) {
    Step step{s, {}};
    if (s.kind == NormalizerStep::Kind::Replace) {
      PEFT_ASSIGN_OR_RETURN(step.replace, Replacer::build(s.pattern, s.content, where));
    }
    n.steps_.push_back(std::move(step));
  }
  return n;
}

std::string Normalizer::apply(std::string_view text) const {
  std::string s(text);
  for (const Step& step : steps_) {
    switch (step.spec.kind) {
      case NormalizerStep::Kind::Nfc:
      case NormalizerStep::Kind::Nfd:
      case NormalizerStep::Kind::Nfkc:
      case NormalizerStep::Kind::Nfkd:
        s = unicode_normalize(s, step.spec.kind);
        break;
      case NormalizerStep::Kind::Prepend:
        // Hugging Face prepends to non-empty strings only, so "" stays "".
        if (!s.empty()) s = step.spec.prepend + s;
        break;
      case NormalizerStep::Kind::Replace:
        s = step.replace.apply(s);
        break;
      case NormalizerStep::Kind::Lowercase:
        s = lowercase(s);
        break;
      case NormalizerStep::Kind::Strip:
        s = strip(s, step.spec.strip_left, step.spec.strip_right);
        break;
    }
  }
  return s;
}

}  // namespace peft
