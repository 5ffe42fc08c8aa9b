// HfBpeTokenizer: the tokenizer.json pipeline (added tokens, normalizer, pre-tokenizer, BPE,
// post-processor, decoder) over a TokenizerSpec, whichever file format it was read from.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalize.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_spec.h"

namespace peft {

class HfBpeTokenizer final : public Tokenizer {
 public:
  // Compiles the regexes and merge table; errors name spec.where.
  static Result<std::unique_ptr<HfBpeTokenizer>> build(TokenizerSpec spec);

  std::vector<int32_t> encode(std::string_view text, bool add_bos) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  int32_t vocab_size() const override { return vocab_size_; }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  std::string kind() const override { return kind_; }
  std::string token_text(int32_t id) const override;
  int32_t token_id(std::string_view text) const override;
  bool is_special(int32_t id) const override;
  bool add_bos_default() const override { return !prefix_ids_.empty(); }
  // Per the post_processor's pair template (RobertaProcessing, BertProcessing, TemplateProcessing
  // "pair"); without one, the single-sequence template around each (types 0, then 1).
  PairEncoding encode_pair(std::string_view a, std::string_view b, bool add_special) const override;

  // What the post-processor adds around a sequence (for add_bos=true).
  const std::vector<int32_t>& prefix_ids() const { return prefix_ids_; }
  const std::vector<int32_t>& suffix_ids() const { return suffix_ids_; }

 private:
  HfBpeTokenizer() = default;
  std::string where_, kind_;
  std::unique_ptr<BpeModel> model_;
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  Decoder decoder_;
  AddedTokenMatcher raw_added_, normalized_added_;  // normalized=false / true tokens
  std::vector<std::string> added_text_;             // by id; empty when not an added token
  TokenMap added_ids_;
  std::vector<bool> special_;  // by id
  std::vector<int32_t> prefix_ids_, suffix_ids_;
  std::vector<TemplatePiece> pair_template_;
  int32_t bos_ = -1, eos_ = -1, vocab_size_ = 0;
};

}  // namespace peft
