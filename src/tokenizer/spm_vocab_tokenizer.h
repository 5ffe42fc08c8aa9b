// SpmVocabTokenizer: SentencePiece's BPE algorithm over a plain piece/score/type vocabulary.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/token_map.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_spec.h"
#include "tokenizer/word_cache.h"

namespace peft {

// Same ids as libsentencepiece (and llama.cpp's SPM tokenizer) for a BPE model whose
// normalizer rule is the identity, as LLaMA's: spaces become "▁" (squeezed first when
// remove_extra_whitespaces), "▁" is prepended (add_space_prefix), then the adjacent pair whose concatenation is the
// highest-scored piece is merged (leftmost on ties) until none is; pieces left unknown
// become <0xNN> byte tokens (or one unk per run when the vocabulary has no bytes).
// Control-token strings in the text ("<s>") are plain text, as in sentencepiece;
// user-defined pieces are matched whole first.
class SpmVocabTokenizer final : public Tokenizer {
 public:
  static Result<std::unique_ptr<SpmVocabTokenizer>> build(const VocabSpec& spec, const std::string& where);

  std::vector<int32_t> encode(std::string_view text, bool add_bos) const override;
  // sentencepiece's Decode: control tokens vanish, unk is " ⁇ ", <0xNN> runs become bytes
  // (kept as they are even when not valid UTF-8, where sentencepiece writes U+FFFD), and
  // the leading "▁" of the first piece is dropped.
  std::string decode(std::span<const int32_t> ids) const override;
  int32_t vocab_size() const override { return int32_t(pieces_.size()); }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  std::string kind() const override { return "spm-bpe"; }
  std::string token_text(int32_t id) const override;
  int32_t token_id(std::string_view text) const override { return find_token(all_ids_, text); }
  bool is_special(int32_t id) const override;
  bool add_bos_default() const override { return add_bos_ && bos_ >= 0; }

 private:
  SpmVocabTokenizer() = default;
  std::string normalize(std::string_view text) const;
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;
  void encode_uncached(std::string_view word, std::vector<int32_t>& out) const;
  TokenType type(int32_t id) const { return types_[id]; }

  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::vector<TokenType> types_;
  std::vector<int16_t> byte_value_;  // by id: the byte of a <0xNN> token, -1 otherwise
  TokenMap mergeable_;               // normal, user-defined and unused pieces: what merges may form
  TokenMap all_ids_;
  AddedTokenMatcher user_defined_;
  int32_t byte_ids_[256];
  bool byte_fallback_ = false;
  int32_t bos_ = -1, eos_ = -1, unk_ = -1;
  bool add_bos_ = true, add_eos_ = false, add_space_prefix_ = true, remove_extra_whitespaces_ = false;
  bool split_at_marker_ = false;  // see BpeModel: words end before "▁" when no piece spans that

  WordCache cache_;
};

}  // namespace peft
