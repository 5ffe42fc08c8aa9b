// WordPieceTokenizer: BERT's tokenizer (special tokens, BasicTokenizer, greedy longest-match
// WordPiece, [CLS]/[SEP] templates), from vocab.txt or a WordPiece tokenizer.json.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bert_text.h"
#include "tokenizer/token_map.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_spec.h"

namespace peft {

// What BertTokenizer's files (or a tokenizer.json) say, as plain data.
struct WordPieceSpec {
  std::string where;  // the file(s) it came from, for messages
  std::string kind;   // Tokenizer::kind()
  // vocab[id]; a token listed twice is looked up as its last id (BertTokenizer's dict).
  std::vector<std::string> vocab;
  std::string unk_token = "[UNK]";
  std::string prefix = "##";               // continuing_subword_prefix
  int32_t max_input_chars_per_word = 100;  // longer words (in code points) become [UNK]
  BertBasicOptions basic;
  std::vector<std::string> never_split;
  // Cut out of the text first (special tokens, added_tokens.json). Their ids may lie past
  // the vocabulary; special ones are skipped by decode.
  std::vector<AddedTokenSpec> added_tokens;
  // The slow tokenizer lowercases the text outside added tokens before it looks for them,
  // so "<ENT>" matches an added "<ent>"; the Rust one matches raw text.
  bool lowercase_before_added = true;
  std::vector<int32_t> prefix_ids, suffix_ids;  // encode(text, true): [CLS] ... [SEP]
  std::vector<TemplatePiece> pair_template;     // empty: prefix/suffix around each (types 0, 1)
  // decode glues tokens starting with this to the one before (BertTokenizer: "##"); empty:
  // tokens are only joined with spaces (a tokenizer.json without a decoder).
  std::string decode_prefix = "##";
  // clean_up_tokenization_spaces: " ." -> ".", " n't" -> "n't", ... (transformers' default).
  bool cleanup = true;
  int32_t bos = -1, eos = -1;  // [CLS] / [SEP]: what encode(text, true) puts first / last
};

class WordPieceTokenizer final : public Tokenizer {
 public:
  // Errors (naming spec.where): no tokens, the unknown token not among them, ids out of range.
  static Result<std::unique_ptr<WordPieceTokenizer>> build(WordPieceSpec spec);

  std::vector<int32_t> encode(std::string_view text, bool add_bos) const override;
  // BertTokenizer.decode(ids, skip_special_tokens=True): tokens joined with spaces, " ##"
  // removed, then clean_up_tokenization when enabled. Invalid ids are skipped.
  std::string decode(std::span<const int32_t> ids) const override;
  int32_t vocab_size() const override { return int32_t(tokens_.size()); }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  std::string kind() const override { return kind_; }
  std::string token_text(int32_t id) const override;
  int32_t token_id(std::string_view text) const override;
  bool is_special(int32_t id) const override { return id >= 0 && id < vocab_size() && special_[id]; }
  bool add_bos_default() const override { return !prefix_ids_.empty(); }
  PairEncoding encode_pair(std::string_view a, std::string_view b, bool add_special) const override;

 private:
  WordPieceTokenizer() = default;
  void encode_text(std::string_view text, std::vector<int32_t>& ids) const;
  void encode_word(std::string_view word, std::vector<int32_t>& ids) const;
  std::string join_tokens(const std::vector<std::string>& tokens) const;

  std::string where_, kind_, prefix_;
  std::vector<std::string> tokens_;  // by id: the vocabulary, then added tokens
  TokenMap vocab_ids_, added_ids_;
  std::vector<bool> special_, added_;  // by id
  BertBasicTokenizer basic_;
  AddedTokenMatcher matcher_;
  std::string decode_prefix_;
  bool lowercase_before_added_ = true, cleanup_ = true;
  size_t max_piece_bytes_ = 0;  // longest vocabulary entry, which bounds the greedy search
  int32_t unk_ = -1, max_chars_ = 100;
  std::vector<int32_t> prefix_ids_, suffix_ids_;
  std::vector<TemplatePiece> pair_template_;
  int32_t bos_ = -1, eos_ = -1;
};

// transformers' clean_up_tokenization: drops the space before . ? ! , and in " ' ", " n't",
// " 'm", " 's", " 've", " 're".
std::string clean_up_tokenization(std::string text);

}  // namespace peft
