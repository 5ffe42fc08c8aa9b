// Pair templates and their lay-out, shared by the BPE and WordPiece tokenizers, and the
// Tokenizer::encode_pair default for those without one.
#include "tokenizer/post_processor.h"

#include <algorithm>

namespace peft {
namespace {

TemplatePiece special(int32_t id, int32_t type_id) { return {TemplatePiece::Kind::Special, {id}, type_id}; }
TemplatePiece sequence(TemplatePiece::Kind kind, int32_t type_id) { return {kind, {}, type_id}; }

// `sequence`: 0 or 1 for a text's ids, -1 for the template's.
void append(PairEncoding& out, std::span<const int32_t> ids, int32_t type_id, int8_t sequence) {
  out.ids.insert(out.ids.end(), ids.begin(), ids.end());
  out.type_ids.resize(out.ids.size(), type_id);
  out.sequence_ids.resize(out.ids.size(), sequence);
}

// encode(text, true) as template tokens around encode(text, false): where the plain ids sit
// inside it (0 when they cannot be found, which no tokenizer here gives).
size_t plain_offset(const std::vector<int32_t>& full, const std::vector<int32_t>& plain) {
  for (size_t at = 0; at + plain.size() <= full.size(); ++at)
    if (std::equal(plain.begin(), plain.end(), full.begin() + at)) return at;
  return 0;
}

}  // namespace

std::vector<TemplatePiece> bert_pair_template(int32_t cls, int32_t sep) {
  return {special(cls, 0), sequence(TemplatePiece::Kind::A, 0), special(sep, 0), sequence(TemplatePiece::Kind::B, 1),
          special(sep, 1)};
}

std::vector<TemplatePiece> roberta_pair_template(int32_t cls, int32_t sep) {
  return {special(cls, 0), sequence(TemplatePiece::Kind::A, 0), special(sep, 0),
          special(sep, 0), sequence(TemplatePiece::Kind::B, 0), special(sep, 0)};
}

PairEncoding lay_out_pair(const std::vector<TemplatePiece>& pair_template, const std::vector<int32_t>& prefix,
                          const std::vector<int32_t>& suffix, std::span<const int32_t> a, std::span<const int32_t> b,
                          bool add_special) {
  PairEncoding out;
  out.ids.reserve(a.size() + b.size() + 2 * (prefix.size() + suffix.size()) + 4);
  if (!add_special) {
    append(out, a, 0, 0);
    append(out, b, 0, 1);
  } else if (pair_template.empty()) {
    for (auto [seq, index] : {std::pair{a, 0}, std::pair{b, 1}}) {
      append(out, prefix, index, -1);
      append(out, seq, index, int8_t(index));
      append(out, suffix, index, -1);
    }
  } else {
    for (const TemplatePiece& p : pair_template) {
      switch (p.kind) {
        case TemplatePiece::Kind::A:
          append(out, a, p.type_id, 0);
          break;
        case TemplatePiece::Kind::B:
          append(out, b, p.type_id, 1);
          break;
        case TemplatePiece::Kind::Special:
          append(out, p.ids, p.type_id, -1);
          break;
      }
    }
  }
  return out;
}

// Tokenizers without a pair template: each text with its own single-sequence template.
PairEncoding Tokenizer::encode_pair(std::string_view a, std::string_view b, bool add_special) const {
  PairEncoding out;
  for (auto [text, index] : {std::pair{a, 0}, std::pair{b, 1}}) {
    const std::vector<int32_t> plain = encode(text, false);
    if (!add_special) {
      append(out, plain, 0, int8_t(index));
      continue;
    }
    const std::vector<int32_t> full = encode(text, true);
    const size_t at = plain_offset(full, plain), end = std::min(full.size(), at + plain.size());
    append(out, std::span(full).first(at), index, -1);
    append(out, std::span(full).subspan(at, end - at), index, int8_t(index));
    append(out, std::span(full).subspan(end), index, -1);
  }
  return out;
}

}  // namespace peft
