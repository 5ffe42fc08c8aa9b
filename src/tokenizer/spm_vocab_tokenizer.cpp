// SentencePiece BPE (bpe_model.cc's Encode) re-implemented over plain arrays, so GGUF
// vocabularies need no ModelProto.
#include "tokenizer/spm_vocab_tokenizer.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdio>
#include <queue>

#include "tokenizer/utf8.h"

namespace peft {
namespace {

constexpr std::string_view kMarker = "\xE2\x96\x81";  // "▁"

struct Symbol {
  std::string_view text;
  int32_t prev, next;
  bool frozen;
};

struct Pair {
  float score;
  int32_t left, right;
  size_t size;
};
struct LowerPair {  // highest score first, then leftmost
  bool operator()(const Pair& a, const Pair& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

bool has_inner_marker(std::string_view token) {
  for (size_t pos = token.find(kMarker, 1); pos != std::string_view::npos; pos = token.find(kMarker, pos + 1)) {
    if (pos < kMarker.size() || token.compare(pos - kMarker.size(), kMarker.size(), kMarker) != 0) return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<SpmVocabTokenizer>> SpmVocabTokenizer::build(const VocabSpec& spec, const std::string& where) {
  std::unique_ptr<SpmVocabTokenizer> t(new SpmVocabTokenizer());
  const size_t n = spec.tokens.size();
  if (spec.scores.size() != n) {
    return Status::errorf("{}: {} tokens but {} scores (a SentencePiece BPE vocabulary needs one score per token)",
                          where, n, spec.scores.size());
  }
  t->pieces_ = spec.tokens;
  t->scores_ = spec.scores;
  t->types_.resize(n, TokenType::Normal);
  t->byte_value_.assign(n, -1);
  for (size_t id = 0; id < n; ++id) {
    const std::string& p = spec.tokens[id];
    unsigned v = 0;
    const bool byte_spelling = p.size() == 6 && p.starts_with("<0x") && p[5] == '>' && std::isxdigit(uint8_t(p[3])) &&
                               std::isxdigit(uint8_t(p[4])) && std::sscanf(p.c_str() + 3, "%2x", &v) == 1;
    TokenType ty = TokenType::Normal;
    if (!spec.token_types.empty()) {
      const int32_t k = spec.token_types[id];
      ty = k >= 1 && k <= 6 ? TokenType(k) : TokenType::Normal;
    } else if (byte_spelling) {
      ty = TokenType::Byte;
    } else if (int32_t(id) == spec.bos || int32_t(id) == spec.eos) {
      ty = TokenType::Control;
    } else if (int32_t(id) == spec.unk) {
      ty = TokenType::Unknown;
    }
    if (ty == TokenType::Byte && !byte_spelling) ty = TokenType::Normal;  // its byte would be unknown
    if (ty == TokenType::Byte) t->byte_value_[id] = int16_t(v);
    t->types_[id] = ty;
  }
  std::vector<AddedTokenSpec> user_defined;
  for (size_t id = 0; id < n; ++id) {
    const std::string& p = t->pieces_[id];
    t->all_ids_.emplace(p, int32_t(id));
    const TokenType ty = t->types_[id];
    // sentencepiece's pieces_ map: what BPE may produce (control/unk/byte are "reserved").
    if (ty == TokenType::Normal || ty == TokenType::UserDefined || ty == TokenType::Unused)
      t->mergeable_.emplace(p, int32_t(id));
    if (ty == TokenType::UserDefined) user_defined.push_back({int32_t(id), p});
    if (ty == TokenType::Unknown && t->unk_ < 0) t->unk_ = int32_t(id);
  }
  if (spec.unk >= 0) t->unk_ = spec.unk;
  t->user_defined_ = AddedTokenMatcher(std::move(user_defined));
  t->byte_fallback_ = true;
  for (int b = 0; b < 256; ++b) {
    const int32_t id = find_token(t->all_ids_, fmt::format("<0x{:02X}>", b));
    t->byte_ids_[b] = id >= 0 && t->types_[id] == TokenType::Byte ? id : -1;
    t->byte_fallback_ = t->byte_fallback_ && t->byte_ids_[b] >= 0;
  }
  t->bos_ = spec.bos;
  t->eos_ = spec.eos;
  t->add_bos_ = spec.add_bos.value_or(true);
  t->add_eos_ = spec.add_eos.value_or(false);
  t->add_space_prefix_ = spec.add_space_prefix;
  t->remove_extra_whitespaces_ = spec.remove_extra_whitespaces;
  bool cuttable = find_token(t->mergeable_, kMarker) >= 0;
  for (const auto& [piece, id] : t->mergeable_) {
    if (!cuttable) break;
    cuttable = !has_inner_marker(piece);
  }
  t->split_at_marker_ = cuttable;
  return t;
}

// sentencepiece's Normalizer::Normalize with the identity rule.
std::string SpmVocabTokenizer::normalize(std::string_view text) const {
  if (remove_extra_whitespaces_) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  }
  std::string norm;
  if (text.empty()) return norm;
  norm.reserve(text.size() + 8);
  if (add_space_prefix_) norm += kMarker;
  bool prev_space = remove_extra_whitespaces_;
  for (char c : text) {
    if (c == ' ') {
      if (!(remove_extra_whitespaces_ && prev_space)) norm += kMarker;
      prev_space = true;
    } else {
      norm += c;
      prev_space = false;
    }
  }
  // Trailing markers go too, even ones the text spelled out itself.
  while (remove_extra_whitespaces_ && norm.ends_with(kMarker)) norm.resize(norm.size() - kMarker.size());
  return norm;
}

std::vector<int32_t> SpmVocabTokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<int32_t> ids;
  if (add_bos && add_bos_ && bos_ >= 0) ids.push_back(bos_);
  const std::string norm = normalize(text);
  if (!norm.empty()) {
    std::vector<TextSegment> segments;
    if (user_defined_.empty())
      segments.push_back({norm, -1, true});
    else
      user_defined_.split(norm, true, segments);
    for (const TextSegment& seg : segments) {
      if (seg.id >= 0) {
        ids.push_back(seg.id);
        continue;
      }
      std::string_view w = seg.text;
      if (!split_at_marker_) {
        encode_word(w, ids);
        continue;
      }
      size_t begin = 0;
      for (size_t pos = w.find(kMarker, 1); pos != std::string_view::npos; pos = w.find(kMarker, pos + 1)) {
        if (pos >= kMarker.size() && w.compare(pos - kMarker.size(), kMarker.size(), kMarker) == 0) continue;
        encode_word(w.substr(begin, pos - begin), ids);
        begin = pos;
      }
      encode_word(w.substr(begin), ids);
    }
  }
  if (add_bos && add_eos_ && eos_ >= 0) ids.push_back(eos_);
  return ids;
}

void SpmVocabTokenizer::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  cache_.encode(word, out, [this](std::string_view w, std::vector<int32_t>& o) { encode_uncached(w, o); });
}

void SpmVocabTokenizer::encode_uncached(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  std::vector<Symbol> symbols;
  for (size_t i = 0; i < word.size();) {
    const size_t len = utf8::char_len(word, i);
    const int32_t n = int32_t(symbols.size());
    symbols.push_back({word.substr(i, len), n - 1, n + 1, false});
    i += len;
  }
  symbols.back().next = -1;

  std::priority_queue<Pair, std::vector<Pair>, LowerPair> agenda;
  StringMap<std::pair<std::string_view, std::string_view>> rev_merge;  // unused pieces -> halves
  auto maybe_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0 || symbols[left].frozen || symbols[right].frozen) return;
    const std::string_view piece(symbols[left].text.data(), symbols[left].text.size() + symbols[right].text.size());
    const int32_t id = find_token(mergeable_, piece);
    if (id < 0) return;
    agenda.push({scores_[id], left, right, piece.size()});
    if (type(id) == TokenType::Unused) rev_merge[std::string(piece)] = {symbols[left].text, symbols[right].text};
  };
  for (int32_t i = 1; i < int32_t(symbols.size()); ++i) maybe_add(i - 1, i);
  while (!agenda.empty()) {
    const Pair top = agenda.top();
    agenda.pop();
    Symbol& left = symbols[top.left];
    Symbol& right = symbols[top.right];
    // Stale when either side was merged away or grew since the pair was queued.
    if (left.text.empty() || right.text.empty() || left.text.size() + right.text.size() != top.size) continue;
    left.text = std::string_view(left.text.data(), top.size);
    right.text = {};
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.left;
    maybe_add(left.prev, top.left);
    maybe_add(top.left, left.next);
  }

  bool prev_unk = false;
  auto emit = [&](auto&& self, std::string_view piece) -> void {
    const int32_t id = find_token(all_ids_, piece);
    if (id >= 0 && type(id) == TokenType::Unused) {
      auto it = rev_merge.find(piece);
      if (it != rev_merge.end()) {
        self(self, it->second.first);
        self(self, it->second.second);
        return;
      }
    }
    const bool known = id >= 0 && type(id) != TokenType::Unknown;
    if (known) {
      out.push_back(id);
      prev_unk = false;
    } else if (byte_fallback_) {
      for (char c : piece) out.push_back(byte_ids_[static_cast<unsigned char>(c)]);
      prev_unk = false;
    } else if (unk_ >= 0 && !prev_unk) {  // sentencepiece fuses a run of unknowns into one
      out.push_back(unk_);
      prev_unk = true;
    }
  };
  for (int32_t i = 0; i >= 0; i = symbols[i].next) emit(emit, symbols[i].text);
}

std::string SpmVocabTokenizer::decode(std::span<const int32_t> ids) const {
  std::string text, bytes;
  bool is_bos_ws = true, bos_ws_seen = false;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) continue;
    const TokenType ty = type(id);
    if (ty == TokenType::Byte) {
      bytes += char(byte_value_[id]);
      continue;
    }
    text += bytes;
    bytes.clear();
    if (bos_ws_seen || !text.empty()) is_bos_ws = false;
    bos_ws_seen = false;
    if (ty == TokenType::Control) continue;
    if (ty == TokenType::Unknown) {
      text += " \xE2\x81\x87 ";
      continue;
    }
    std::string_view piece = pieces_[id];
    if (is_bos_ws && (add_space_prefix_ || remove_extra_whitespaces_) && piece.starts_with(kMarker)) {
      piece.remove_prefix(kMarker.size());
      // Squeezed text never starts with a space, so keep stripping until text appears.
      bos_ws_seen = !remove_extra_whitespaces_;
    }
    for (size_t p = 0; p < piece.size();) {
      if (piece.compare(p, kMarker.size(), kMarker) == 0) {
        text += ' ';
        p += kMarker.size();
      } else {
        text += piece[p++];
      }
    }
  }
  return text + bytes;
}

std::string SpmVocabTokenizer::token_text(int32_t id) const {
  return id >= 0 && id < vocab_size() ? pieces_[id] : std::string();
}

bool SpmVocabTokenizer::is_special(int32_t id) const {
  return id >= 0 && id < vocab_size() && type(id) == TokenType::Control;
}

}  // namespace peft
