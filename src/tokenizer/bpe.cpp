// BPE merge engine: a min-heap of (rank, position) over a linked list of symbols, as in
// Hugging Face's Word::merge_all, with a per-word cache in front.
#include "tokenizer/bpe.h"

#include <fmt/format.h>

#include <queue>

#include "tokenizer/utf8.h"

namespace peft {
namespace {

constexpr std::string_view kMarker = "\xE2\x96\x81";  // "▁"

// True when some token has "▁" right after a character other than "▁".
bool has_inner_marker(std::string_view token) {
  for (size_t pos = token.find(kMarker, 1); pos != std::string_view::npos; pos = token.find(kMarker, pos + 1)) {
    if (pos < kMarker.size() || token.compare(pos - kMarker.size(), kMarker.size(), kMarker) != 0) return true;
  }
  return false;
}

struct Symbol {
  int32_t id;
  int32_t prev, next;
  bool alive;
};

struct Candidate {
  int32_t rank, pos, new_id;
};
struct LaterCandidate {  // lowest rank first, then leftmost
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

}  // namespace

Result<std::unique_ptr<BpeModel>> BpeModel::build(BpeSpec spec, const std::string& where) {
  std::unique_ptr<BpeModel> m(new BpeModel());
  m->vocab_ = std::move(spec.vocab);
  m->ids_.reserve(m->vocab_.size());
  for (size_t id = 0; id < m->vocab_.size(); ++id) {
    if (!m->vocab_[id].empty()) m->ids_.emplace(m->vocab_[id], int32_t(id));
  }
  if (!spec.unk_token.empty()) {
    m->unk_id_ = m->token_id(spec.unk_token);
    if (m->unk_id_ < 0) return Status::errorf("{}: unk_token '{}' is not in the vocabulary", where, spec.unk_token);
  }
  for (int b = 0; b < 256; ++b) m->byte_ids_[b] = m->token_id(fmt::format("<0x{:02X}>", b));

  const size_t prefix_len = spec.continuing_subword_prefix.size();
  m->merges_.reserve(spec.merges.size());
  for (size_t i = 0; i < spec.merges.size(); ++i) {
    const auto& [a, b] = spec.merges[i];
    const int32_t ia = m->token_id(a), ib = m->token_id(b);
    if (ia < 0 || ib < 0) {
      return Status::errorf("{}: merge {} ('{} {}') refers to '{}', which is not in the vocabulary", where, i, a, b,
                            ia < 0 ? a : b);
    }
    const std::string merged = a + (b.size() >= prefix_len ? b.substr(prefix_len) : b);
    const int32_t im = m->token_id(merged);
    if (im < 0) {
      return Status::errorf("{}: merge {} ('{} {}') makes '{}', which is not in the vocabulary", where, i, a, b,
                            merged);
    }
    // A repeated pair keeps its last rank, as Hugging Face's HashMap collect does.
    m->merges_.insert_or_assign(pair_key(ia, ib), MergeInfo{int32_t(i), im});
  }

  bool cuttable =
      spec.continuing_subword_prefix.empty() && spec.end_of_word_suffix.empty() && m->token_id(kMarker) >= 0;
  for (size_t id = 0; cuttable && id < m->vocab_.size(); ++id) cuttable = !has_inner_marker(m->vocab_[id]);
  m->split_at_marker_ = cuttable;
  spec.merges.clear();
  m->spec_ = std::move(spec);
  return m;
}

const BpeModel::MergeInfo* BpeModel::find_merge(int32_t a, int32_t b) const {
  auto it = merges_.find(pair_key(a, b));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeModel::encode(std::string_view word, std::vector<int32_t>& out) const {
  if (!split_at_marker_) return encode_cached(word, out);
  size_t begin = 0;
  for (size_t pos = word.find(kMarker, 1); pos != std::string_view::npos; pos = word.find(kMarker, pos + 1)) {
    if (pos >= begin + kMarker.size() && word.compare(pos - kMarker.size(), kMarker.size(), kMarker) == 0) continue;
    if (pos == begin) continue;
    encode_cached(word.substr(begin, pos - begin), out);
    begin = pos;
  }
  encode_cached(word.substr(begin), out);
}

void BpeModel::encode_cached(std::string_view word, std::vector<int32_t>& out) const {
  cache_.encode(word, out, [this](std::string_view w, std::vector<int32_t>& o) { encode_uncached(w, o); });
}

void BpeModel::encode_uncached(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (spec_.ignore_merges) {
    const int32_t id = token_id(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  // One symbol per character (with the subword prefix/suffix where configured); unknown
  // characters become byte tokens, or unk (runs fused when fuse_unk), or are dropped
  // when the model has neither, all as Hugging Face's BPE::merge_word does.
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  auto add = [&](int32_t id) {
    const int32_t n = int32_t(symbols.size());
    symbols.push_back({id, n - 1, n + 1, true});
  };
  bool pending_unk = false;
  std::string piece;
  for (size_t i = 0; i < word.size();) {
    const size_t len = utf8::char_len(word, i);
    piece.clear();
    if (i > 0) piece += spec_.continuing_subword_prefix;
    piece.append(word.substr(i, len));
    if (i + len == word.size()) piece += spec_.end_of_word_suffix;
    const int32_t id = token_id(piece);
    if (id >= 0) {
      if (pending_unk) add(unk_id_), pending_unk = false;
      add(id);
    } else {
      bool all_bytes = spec_.byte_fallback;
      for (size_t k = 0; all_bytes && k < piece.size(); ++k)
        all_bytes = byte_ids_[static_cast<unsigned char>(piece[k])] >= 0;
      if (all_bytes) {
        if (pending_unk) add(unk_id_), pending_unk = false;
        for (char c : piece) add(byte_ids_[static_cast<unsigned char>(c)]);
      } else if (unk_id_ >= 0) {
        if (pending_unk && !spec_.fuse_unk) add(unk_id_);
        pending_unk = true;
      }
    }
    i += len;
  }
  if (pending_unk) add(unk_id_);
  if (symbols.empty()) return;
  symbols.back().next = -1;

  std::priority_queue<Candidate, std::vector<Candidate>, LaterCandidate> queue;
  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    if (const MergeInfo* m = find_merge(symbols[i].id, symbols[i + 1].id)) queue.push({m->rank, int32_t(i), m->new_id});
  }
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    const MergeInfo* m = find_merge(left.id, right.id);
    if (!m || m->new_id != top.new_id) continue;  // stale entry
    left.id = top.new_id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (left.prev >= 0) {
      if (const MergeInfo* pm = find_merge(symbols[left.prev].id, left.id))
        queue.push({pm->rank, left.prev, pm->new_id});
    }
    if (left.next >= 0) {
      if (const MergeInfo* nm = find_merge(left.id, symbols[left.next].id)) queue.push({nm->rank, top.pos, nm->new_id});
    }
  }
  for (const Symbol& s : symbols)
    if (s.alive) out.push_back(s.id);
}

}  // namespace peft
