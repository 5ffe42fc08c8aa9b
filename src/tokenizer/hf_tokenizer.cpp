// HfBpeTokenizer: runs the pipeline the way Hugging Face's tokenizers crate does for one text.
#include "tokenizer/hf_tokenizer.h"

#include <algorithm>

#include "tokenizer/post_processor.h"

namespace peft {

Result<std::unique_ptr<HfBpeTokenizer>> HfBpeTokenizer::build(TokenizerSpec spec) {
  std::unique_ptr<HfBpeTokenizer> t(new HfBpeTokenizer());
  const std::string& where = spec.where;
  t->where_ = spec.where;
  t->kind_ = spec.kind;
  PEFT_ASSIGN_OR_RETURN(t->normalizer_, Normalizer::build(spec.normalizer, where));
  PEFT_ASSIGN_OR_RETURN(t->pre_tokenizer_, PreTokenizer::build(spec.pre_tokenizer, where));
  PEFT_ASSIGN_OR_RETURN(t->decoder_, Decoder::build(spec.decoder, spec.has_decoder, where));
  PEFT_ASSIGN_OR_RETURN(t->model_, BpeModel::build(std::move(spec.model), where));

  constexpr int32_t kMaxId = 1 << 24;  // guards the per-id tables against absurd ids
  int32_t size = int32_t(t->model_->vocab().size());
  for (const AddedTokenSpec& a : spec.added_tokens) {
    if (a.id < 0 || a.id >= kMaxId)
      return Status::errorf("{}: added token '{}' has id {}, out of range", where, a.content, a.id);
    size = std::max(size, a.id + 1);
  }
  t->vocab_size_ = size;
  t->added_text_.assign(size_t(size), std::string());
  t->special_.assign(size_t(size), false);
  std::vector<AddedTokenSpec> raw, normalized;
  for (AddedTokenSpec a : spec.added_tokens) {
    t->added_text_[a.id] = a.content;
    t->added_ids_.insert_or_assign(a.content, a.id);
    t->special_[a.id] = a.special;
    // Hugging Face matches normalized=true tokens in normalized text, so it normalizes
    // their content too.
    if (a.normalized && !t->normalizer_.empty()) a.content = t->normalizer_.apply(a.content);
    (a.normalized ? normalized : raw).push_back(std::move(a));
  }
  t->raw_added_ = AddedTokenMatcher(std::move(raw));
  t->normalized_added_ = AddedTokenMatcher(std::move(normalized));

  std::vector<const std::vector<int32_t>*> added_ids = {&spec.prefix_ids, &spec.suffix_ids};
  for (const TemplatePiece& piece : spec.pair_template) added_ids.push_back(&piece.ids);
  for (const auto* ids : added_ids) {
    for (int32_t id : *ids) {
      if (id < 0 || id >= size)
        return Status::errorf("{}: post_processor adds id {}, outside the vocabulary (size {})", where, id, size);
    }
  }
  t->prefix_ids_ = spec.prefix_ids;
  t->suffix_ids_ = spec.suffix_ids;
  t->pair_template_ = std::move(spec.pair_template);
  t->bos_ = spec.bos >= 0 && spec.bos < size ? spec.bos : -1;
  t->eos_ = spec.eos >= 0 && spec.eos < size ? spec.eos : -1;
  return t;
}

std::vector<int32_t> HfBpeTokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + prefix_ids_.size() + suffix_ids_.size() + 1);
  if (add_bos) ids = prefix_ids_;
  std::vector<TextSegment> raw, normalized;
  if (raw_added_.empty())
    raw.push_back({text, -1, true});
  else
    raw_added_.split(text, true, raw);
  std::vector<std::string> words;
  std::string norm;
  for (const TextSegment& seg : raw) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    // Normalize each stretch between added tokens separately, as Hugging Face does (so a
    // Prepend("▁") normalizer prepends after every special token too).
    std::string_view seg_text = seg.text;
    if (!normalizer_.empty()) {
      norm = normalizer_.apply(seg.text);
      seg_text = norm;
    }
    normalized.clear();
    if (normalized_added_.empty())
      normalized.push_back({seg_text, -1, seg.at_start});
    else
      normalized_added_.split(seg_text, seg.at_start, normalized);
    for (const TextSegment& part : normalized) {
      if (part.id >= 0) {
        ids.push_back(part.id);
        continue;
      }
      words.clear();
      pre_tokenizer_.apply(part.text, part.at_start, words);
      for (const std::string& w : words) model_->encode(w, ids);
    }
  }
  if (add_bos) ids.insert(ids.end(), suffix_ids_.begin(), suffix_ids_.end());
  return ids;
}

PairEncoding HfBpeTokenizer::encode_pair(std::string_view a, std::string_view b, bool add_special) const {
  return lay_out_pair(pair_template_, prefix_ids_, suffix_ids_, encode(a, false), encode(b, false), add_special);
}

std::string HfBpeTokenizer::decode(std::span<const int32_t> ids) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size_ || special_[id]) continue;
    std::string text = token_text(id);
    if (!text.empty()) tokens.push_back(std::move(text));
  }
  return decoder_.decode(std::move(tokens));
}

std::string HfBpeTokenizer::token_text(int32_t id) const {
  if (id < 0 || id >= vocab_size_) return {};
  if (!added_text_[id].empty()) return added_text_[id];
  const auto& vocab = model_->vocab();
  return size_t(id) < vocab.size() ? vocab[id] : std::string();
}

int32_t HfBpeTokenizer::token_id(std::string_view text) const {
  const int32_t added = find_token(added_ids_, text);
  return added >= 0 ? added : model_->token_id(text);
}

bool HfBpeTokenizer::is_special(int32_t id) const { return id >= 0 && id < vocab_size_ && special_[id]; }

}  // namespace peft
