// DebertaV2Tokenizer (transformers 4.31's slow one): a SentencePiece spm.model (DeBERTa-v3's is a
// unigram model) behind the slow tokenizer's special-token splitting, with [CLS] a [SEP] b [SEP].
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/sentencepiece_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_spec.h"

namespace peft {

class DebertaSpmTokenizer final : public Tokenizer {
 public:
  // spm.model with what from_pretrained reads beside it: tokenizer_config.json (do_lower_case
  // false, split_by_punct false, clean_up_tokenization_spaces true, the special tokens:
  // bos/cls [CLS], eos/sep [SEP], unk [UNK], pad [PAD], mask [MASK]), special_tokens_map.json,
  // added_tokens.json. Special tokens the model lacks get the next ids past it, as
  // from_pretrained adds them (DeBERTa-v3's [MASK] = 128000).
  static Result<std::unique_ptr<DebertaSpmTokenizer>> load(const std::string& spm_model);

  // [CLS] text [SEP] with add_bos. The text is cut at special and added tokens (the text
  // either side loses its whitespace there), lowercased around them with do_lower_case,
  // split at punctuation with split_by_punct, and each piece goes through sentencepiece.
  std::vector<int32_t> encode(std::string_view text, bool add_bos) const override;
  // decode(ids, skip_special_tokens=True): sentencepiece's decode of each run of pieces
  // (stripped), added tokens as they are, joined with spaces, then clean_up_tokenization.
  std::string decode(std::span<const int32_t> ids) const override;
  int32_t vocab_size() const override { return int32_t(tokens_.size()); }
  int32_t bos_id() const override { return cls_; }
  int32_t eos_id() const override { return sep_; }
  std::string kind() const override { return "deberta-spm"; }
  std::string token_text(int32_t id) const override;
  int32_t token_id(std::string_view text) const override;
  bool is_special(int32_t id) const override { return id >= 0 && id < vocab_size() && special_[size_t(id)]; }
  PairEncoding encode_pair(std::string_view a, std::string_view b, bool add_special) const override;

 private:
  DebertaSpmTokenizer() = default;
  void encode_text(std::string_view text, std::vector<int32_t>& ids) const;

  std::unique_ptr<SentencePieceTokenizer> spm_;
  std::vector<std::string> tokens_;  // by id: the model's pieces, then added tokens
  std::vector<bool> special_, added_;
  AddedTokenMatcher matcher_;
  bool lowercase_ = false, split_by_punct_ = false, cleanup_ = true;
  int32_t cls_ = -1, sep_ = -1;
  std::vector<TemplatePiece> pair_template_;
};

}  // namespace peft
