// WordPieceTokenizer: transformers 4.31's BertTokenizer.tokenize / decode step for step.
#include "tokenizer/wordpiece.h"

#include <algorithm>

#include "tokenizer/post_processor.h"
#include "tokenizer/utf8.h"

namespace peft {
namespace {

constexpr int32_t kMaxId = 1 << 24;  // guards the per-id tables against absurd ids

// Python's str.replace: non-overlapping, left to right, the result not searched again.
std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(text.size());
  size_t prev = 0;
  for (size_t pos; (pos = text.find(from, prev)) != std::string_view::npos; prev = pos + from.size()) {
    out.append(text.substr(prev, pos - prev));
    out.append(to);
  }
  out.append(text.substr(prev));
  return out;
}

// Python's str.strip().
std::string strip_spaces(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e) {
    const size_t n = utf8::valid_char_len(s, b);
    if (n == 0 || !is_python_space(utf8::decode(s, b))) break;
    b += n;
  }
  while (e > b) {
    size_t i = e - 1;
    while (i > b && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
    if (utf8::valid_char_len(s, i) != e - i || !is_python_space(utf8::decode(s, i))) break;
    e = i;
  }
  return std::string(s.substr(b, e - b));
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

}  // namespace

std::string clean_up_tokenization(std::string text) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (auto [from, to] : kRules) text = replace_all(text, from, to);
  return text;
}

Result<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::build(WordPieceSpec spec) {
  const std::string& where = spec.where;
  if (spec.vocab.empty()) return Status::errorf("{}: the vocabulary has no tokens", where);
  if (spec.vocab.size() >= size_t(kMaxId))
    return Status::errorf("{}: {} tokens is more than this reader accepts", where, spec.vocab.size());
  if (spec.max_input_chars_per_word <= 0)
    return Status::errorf("{}: max_input_chars_per_word must be positive, found {}", where,
                          spec.max_input_chars_per_word);
  std::unique_ptr<WordPieceTokenizer> t(new WordPieceTokenizer());
  t->where_ = where;
  t->kind_ = spec.kind;
  t->prefix_ = spec.prefix;
  t->max_chars_ = spec.max_input_chars_per_word;
  const int32_t n_vocab = int32_t(spec.vocab.size());
  int32_t size = n_vocab;
  for (const AddedTokenSpec& a : spec.added_tokens) {
    if (a.id < 0 || a.id >= kMaxId)
      return Status::errorf("{}: added token '{}' has id {}, out of range", where, a.content, a.id);
    size = std::max(size, a.id + 1);
  }
  for (int32_t id = 0; id < n_vocab; ++id) {
    t->vocab_ids_.insert_or_assign(spec.vocab[id], id);
    t->max_piece_bytes_ = std::max(t->max_piece_bytes_, spec.vocab[id].size());
  }
  t->tokens_ = std::move(spec.vocab);
  t->tokens_.resize(size_t(size));
  t->special_.assign(size_t(size), false);
  t->added_.assign(size_t(size), false);
  for (const AddedTokenSpec& a : spec.added_tokens) {
    t->tokens_[a.id] = a.content;
    t->added_ids_.insert_or_assign(a.content, a.id);
    t->special_[a.id] = a.special;
    // BertTokenizer.decode keeps tokens added past the vocabulary apart from the word pieces.
    t->added_[a.id] = !a.special && a.id >= n_vocab;
  }
  t->unk_ = t->token_id(spec.unk_token);
  if (t->unk_ < 0) return Status::errorf("{}: the unknown token '{}' is not in the vocabulary", where, spec.unk_token);

  std::vector<const std::vector<int32_t>*> post_ids = {&spec.prefix_ids, &spec.suffix_ids};
  for (const TemplatePiece& piece : spec.pair_template) post_ids.push_back(&piece.ids);
  for (const auto* ids : post_ids) {
    for (int32_t id : *ids) {
      if (id < 0 || id >= size)
        return Status::errorf("{}: the template adds id {}, outside the vocabulary (size {})", where, id, size);
    }
  }
  t->prefix_ids_ = std::move(spec.prefix_ids);
  t->suffix_ids_ = std::move(spec.suffix_ids);
  t->pair_template_ = std::move(spec.pair_template);
  t->bos_ = spec.bos >= 0 && spec.bos < size ? spec.bos : -1;
  t->eos_ = spec.eos >= 0 && spec.eos < size ? spec.eos : -1;
  t->lowercase_before_added_ = spec.lowercase_before_added && spec.basic.enabled && spec.basic.lowercase;
  t->decode_prefix_ = spec.decode_prefix;
  t->cleanup_ = spec.cleanup;
  t->basic_ = BertBasicTokenizer(spec.basic, spec.never_split);
  t->matcher_ = AddedTokenMatcher(std::move(spec.added_tokens));
  return t;
}

std::vector<int32_t> WordPieceTokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + prefix_ids_.size() + suffix_ids_.size() + 1);
  if (add_bos) ids = prefix_ids_;
  encode_text(text, ids);
  if (add_bos) ids.insert(ids.end(), suffix_ids_.begin(), suffix_ids_.end());
  return ids;
}

PairEncoding WordPieceTokenizer::encode_pair(std::string_view a, std::string_view b, bool add_special) const {
  return lay_out_pair(pair_template_, prefix_ids_, suffix_ids_, encode(a, false), encode(b, false), add_special);
}

void WordPieceTokenizer::encode_text(std::string_view text, std::vector<int32_t>& ids) const {
  std::vector<TextSegment> segments;
  std::string lowered;
  if (lowercase_before_added_) {
    if (matcher_.empty()) {
      lowered = lowercase_chars(text);
    } else {
      matcher_.split(text, true, segments);
      for (const TextSegment& seg : segments)
        lowered += seg.id >= 0 ? std::string(seg.text) : lowercase_chars(seg.text);
      segments.clear();
    }
    text = lowered;
  }
  if (matcher_.empty())
    segments.push_back({text, -1, true});
  else
    matcher_.split(text, true, segments);
  std::vector<BertWord> words;
  for (const TextSegment& seg : segments) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    words.clear();
    basic_.split(seg.text, words);
    for (const BertWord& w : words) {
      if (w.whole) {
        const int32_t id = token_id(w.text);
        ids.push_back(id >= 0 ? id : unk_);
      } else {
        encode_word(w.text, ids);
      }
    }
  }
}

// Greedy longest-match-first: the longest vocabulary entry that starts the rest of the word
// ("##"-prefixed after the first piece); one piece missing makes the whole word [UNK].
void WordPieceTokenizer::encode_word(std::string_view word, std::vector<int32_t>& ids) const {
  std::vector<size_t> bounds;  // byte offset of each code point, then word.size()
  for (size_t i = 0; i < word.size(); i += utf8::char_len(word, i)) bounds.push_back(i);
  const size_t n_chars = bounds.size();
  bounds.push_back(word.size());
  if (n_chars == 0) return;
  if (n_chars > size_t(max_chars_)) {
    ids.push_back(unk_);
    return;
  }
  const size_t first = ids.size();
  std::string key = prefix_;
  for (size_t s = 0; s < n_chars;) {
    int32_t found = -1;
    size_t e = n_chars;
    for (; e > s; --e) {
      const size_t bytes = bounds[e] - bounds[s];
      if (bytes + (s > 0 ? prefix_.size() : 0) > max_piece_bytes_) continue;
      const std::string_view piece = word.substr(bounds[s], bytes);
      if (s == 0) {
        found = find_token(vocab_ids_, piece);
      } else {
        key.resize(prefix_.size());
        key += piece;
        found = find_token(vocab_ids_, key);
      }
      if (found >= 0) break;
    }
    if (found < 0) {
      ids.resize(first);
      ids.push_back(unk_);
      return;
    }
    ids.push_back(found);
    s = e;
  }
}

std::string WordPieceTokenizer::join_tokens(const std::vector<std::string>& tokens) const {
  std::string text = join(tokens, " ");
  if (!decode_prefix_.empty()) text = replace_all(text, " " + decode_prefix_, "");
  return strip_spaces(text);
}

std::string WordPieceTokenizer::decode(std::span<const int32_t> ids) const {
  std::vector<std::string> parts, run;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size() || special_[id]) continue;
    if (added_[id]) {
      if (!run.empty()) parts.push_back(join_tokens(run));
      run.clear();
      parts.push_back(tokens_[id]);
    } else {
      run.push_back(tokens_[id]);
    }
  }
  if (!run.empty()) parts.push_back(join_tokens(run));
  std::string text = join(parts, " ");
  return cleanup_ ? clean_up_tokenization(std::move(text)) : text;
}

std::string WordPieceTokenizer::token_text(int32_t id) const {
  return id >= 0 && id < vocab_size() ? tokens_[id] : std::string();
}

int32_t WordPieceTokenizer::token_id(std::string_view text) const {
  const int32_t added = find_token(added_ids_, text);
  return added >= 0 ? added : find_token(vocab_ids_, text);
}

}  // namespace peft
