// Segments → token modality ids: token ends in the decoded text (token_ends.h), a
// whitespace-tolerant character alignment of it with the prompt, the last-character rule.
#include "data/token_modality.h"

#include <algorithm>

#include "core/check.h"
#include "data/prompt.h"
#include "data/segments.h"
#include "data/token_ends.h"
#include "tokenizer/utf8.h"

namespace peft {

namespace {

// Code point at s[i], or U+FFFD where the bytes are not valid UTF-8.
uint32_t char_at(std::string_view s, size_t i) { return utf8::valid_char_len(s, i) ? utf8::decode(s, i) : 0xFFFD; }

// Normalisers squeeze, strip or rewrite whitespace; SentencePiece's meta symbol ▁ is a space.
bool is_space(uint32_t cp) { return utf8::is_whitespace(cp) || cp == 0x2581; }

// What a decoder writes for text it could not reproduce: it stands for one character.
bool is_placeholder(uint32_t cp) { return cp == 0xFFFD || cp == 0x2047; }

// A short, printable excerpt of s from byte i (newlines escaped) for error messages.
std::string excerpt(std::string_view s, size_t i) {
  std::string out;
  for (size_t n = 0; i < s.size() && n < 12; ++n) {
    const size_t len = utf8::char_len(s, i);
    if (s[i] == '\n')
      out += "\\n";
    else
      out.append(s.substr(i, len));
    i += len;
  }
  return i < s.size() ? out + "..." : out;
}

// Byte offset of code point `cp` of valid UTF-8 `s` (s.size() when cp is its length).
size_t byte_of_code_point(std::string_view s, int64_t cp) {
  size_t i = 0;
  for (int64_t n = 0; n < cp && i < s.size(); ++n) i += utf8::char_len(s, i);
  return i;
}

}  // namespace

Result<std::vector<int64_t>> token_last_chars(const Tokenizer& tokenizer, std::string_view text,
                                              std::span<const int32_t> ids) {
  const size_t T = ids.size();
  TokenEnds ends = token_ends(tokenizer, ids);
  const std::string& full = ends.text;  // D
  const std::vector<size_t>&stop = ends.stop, &touch = ends.touch;
  // at[j]: for the character of D starting at byte j, the byte in `text` it stands for, or
  // -1 when D inserted it (whitespace only). Greedy works because only whitespace is skipped.
  std::vector<int64_t> at(full.size(), -1);
  std::vector<size_t> char_start(full.size());  // byte of D → start of its character
  size_t i = 0;
  for (size_t j = 0; j < full.size();) {
    const size_t dl = std::min(utf8::char_len(full, j), full.size() - j);
    std::fill_n(char_start.begin() + j, dl, j);
    const uint32_t d = char_at(full, j);
    const bool have_text = i < text.size();
    const size_t tl = have_text ? utf8::char_len(text, i) : 0;
    if (have_text && (full.compare(j, dl, text.substr(i, tl)) == 0 || is_placeholder(d))) {
      at[j] = int64_t(i);
      i += tl;
      j += dl;
    } else if (is_space(d)) {
      j += dl;
    } else if (have_text && is_space(char_at(text, i))) {
      i += tl;
    } else {
      return Status::errorf("decoding the tokens gives \"{}\" where the text has \"{}\" (byte {} of the text)",
                            excerpt(full, j), have_text ? excerpt(text, i) : "", i);
    }
  }
  // A token's last character is the one holding its last byte (so all byte tokens of one
  // character share it); characters D inserted are passed over for the one before, within
  // the token's own bytes.
  std::vector<int64_t> last(T, -1);
  size_t begin = 0;
  for (size_t k = 0; k < T; ++k) {
    for (size_t b = touch[k]; b > begin;) {
      const size_t c = char_start[b - 1];
      if (at[c] >= 0) {
        last[k] = at[c];
        break;
      }
      b = c;
    }
    begin = stop[k];
  }
  return last;
}

Result<std::vector<int32_t>> token_modalities(const Tokenizer& tokenizer, const Record& record,
                                              std::span<const int32_t> ids, std::span<const std::string> modalities) {
  if (record.segments.empty()) return std::vector<int32_t>{};
  const std::string where = record.where.empty() ? "record" : record.where;
  FieldOffsets offsets;
  const std::string prompt = record_prompt(record, offsets);
  struct Span {
    size_t begin, end;  // bytes of the prompt
    int32_t id;
  };
  std::vector<Span> spans;
  for (const Segment& s : record.segments) {
    auto it = std::find(modalities.begin(), modalities.end(), s.modality);
    if (it == modalities.end()) PEFT_TRY(check_segment_modalities(std::span<const Record>(&record, 1), modalities));
    const std::string_view field = segment_field_text(record, s.field);
    const size_t base = offsets.of(s.field);
    spans.push_back({base + byte_of_code_point(field, s.start), base + byte_of_code_point(field, s.end),
                     int32_t(it - modalities.begin())});
  }
  Result<std::vector<int64_t>> last = token_last_chars(tokenizer, prompt, ids);
  if (!last.is_ok())
    return Status::errorf(
        "{}: cannot place the segments on the tokens: {}; segments need a tokenizer whose "
        "decode gives back the text (whitespace may differ)",
        where, last.status().message());
  std::vector<int32_t> modality(ids.size(), 0);
  int32_t next = 0;  // modality of the nearest later token that has a character
  for (size_t k = ids.size(); k-- > 0;) {
    const int64_t c = (*last)[k];
    if (c < 0) {
      modality[k] = tokenizer.is_special(ids[k]) ? 0 : next;
      continue;
    }
    for (const Span& s : spans)
      if (size_t(c) >= s.begin && size_t(c) < s.end) modality[k] = s.id;
    next = modality[k];
  }
  return modality;
}

Status assign_modalities(const Tokenizer& tokenizer, std::span<const Record> records,
                         std::span<TokenizedExample> examples, std::span<const std::string> modalities) {
  PEFT_CHECK(records.size() == examples.size(), "{} records for {} examples", records.size(), examples.size());
  const int64_t n = int64_t(records.size());
  // Every record runs (no early exit), so the error reported is the first in file order.
  std::vector<Status> errors(records.size(), Status::ok());
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < n; ++i) {
    if (records[size_t(i)].segments.empty()) continue;
    auto m = token_modalities(tokenizer, records[size_t(i)], examples[size_t(i)].ids, modalities);
    if (m.is_ok())
      examples[size_t(i)].modality = std::move(m).value();
    else
      errors[size_t(i)] = m.status();
  }
  for (const Status& s : errors) PEFT_TRY(s);
  return Status::ok();
}

}  // namespace peft
