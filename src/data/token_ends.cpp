// Token end offsets in decoded text: the quadratic exact method and the linear streaming one.
#include "data/token_ends.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace peft {

namespace {

size_t common_prefix(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

// How far `prefix` agrees with `text`, in whole characters of text, except that raw
// partial bytes (a decoder passing a split character through) count: U+FFFD shares its
// first byte with many characters, which must not read as a partial match.
size_t agreement(std::string_view prefix, std::string_view text) {
  size_t agree = common_prefix(prefix, text);
  size_t start = agree;  // start of text's character holding byte `agree`
  while (start > 0 && start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  if (start < agree && utf8::valid_char_len(prefix, start) > 0) agree = start;
  return agree;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

}  // namespace

TokenEnds token_ends_by_prefixes(const Tokenizer& tokenizer, std::span<const int32_t> ids) {
  const size_t T = ids.size();
  TokenEnds e{tokenizer.decode(ids), std::vector<size_t>(T), std::vector<size_t>(T)};
  size_t reached = 0;
  for (size_t k = 0; k < T; ++k) {
    e.touch[k] = reached;
    if (!tokenizer.is_special(ids[k])) {
      const std::string prefix = tokenizer.decode(ids.first(k + 1));
      const size_t agree = agreement(prefix, e.text);
      reached = std::max(reached, agree);
      e.touch[k] = reached;
      // Past the agreement there is more: the token began a character a later one completes.
      if (prefix.size() > agree && agree < e.text.size()) e.touch[k] = std::max(reached, agree + 1);
    }
    e.stop[k] = reached;
  }
  return e;
}

std::optional<TokenEnds> token_ends_incremental(const Tokenizer& tokenizer, std::span<const int32_t> ids) {
  const size_t T = ids.size();
  TokenEnds e{tokenizer.decode(ids), std::vector<size_t>(T), std::vector<size_t>(T)};
  // The window [from, upto) holds the tokens decoded last time, kept as context so the
  // difference is what the new token adds (leading-space rules apply to both alike).
  size_t from = 0, upto = 0, emitted = 0;
  for (size_t k = 0; k < T; ++k) {
    e.stop[k] = e.touch[k] = emitted;
    if (tokenizer.is_special(ids[k])) continue;
    const std::string before = tokenizer.decode(ids.subspan(from, upto - from));
    const std::string after = tokenizer.decode(ids.subspan(from, k + 1 - from));
    if (after.size() <= before.size() || after.ends_with(kReplacement)) {
      // Nothing whole yet (a partial character): emit once a later token completes it.
      if (after.size() > before.size() && emitted < e.text.size()) e.touch[k] = emitted + 1;
      continue;
    }
    if (!after.starts_with(before)) return std::nullopt;
    const std::string_view added = std::string_view(after).substr(before.size());
    if (e.text.compare(emitted, added.size(), added) != 0) return std::nullopt;
    emitted += added.size();
    e.stop[k] = e.touch[k] = emitted;
    from = upto;
    upto = k + 1;
  }
  if (emitted != e.text.size()) return std::nullopt;
  return e;
}

TokenEnds token_ends(const Tokenizer& tokenizer, std::span<const int32_t> ids) {
  if (auto e = token_ends_incremental(tokenizer, ids)) return std::move(*e);
  return token_ends_by_prefixes(tokenizer, ids);
}

}  // namespace peft
