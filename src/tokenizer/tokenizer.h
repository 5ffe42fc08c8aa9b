// Tokenizer interface: text <-> token ids, with Hugging Face's BOS/EOS conventions.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace peft {

// A sentence pair as encoder models take it: the ids and, per id, its segment (token type id).
struct PairEncoding {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;  // same length as ids
  // Per id: 0 from a, 1 from b, -1 a special token the template added (Hugging Face's
  // sequence_ids), so callers can truncate the texts and keep the template's tokens. (Telling
  // them apart by is_special would not do: [UNK] is special and occurs inside texts.)
  std::vector<int8_t> sequence_ids;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Token ids of `text`. add_bos adds the special tokens this tokenizer adds by default
  // (Hugging Face's add_special_tokens=True): BOS for LLaMA, nothing for GPT-2, what a
  // tokenizer.json post_processor template puts around the text.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos) const = 0;
  // Text of `ids` with special tokens (BOS/EOS/PAD, special added tokens) and ids outside
  // [0, vocab_size) skipped.
  virtual std::string decode(std::span<const int32_t> ids) const = 0;
  virtual int32_t vocab_size() const = 0;
  virtual int32_t bos_id() const = 0;    // -1 when absent
  virtual int32_t eos_id() const = 0;    // -1 when absent
  virtual std::string kind() const = 0;  // "sentencepiece", "tokenizer.json", "gpt2-bpe", "spm-vocab", "bert-wordpiece"

  // The vocabulary string of `id` ("Ġthe", "▁the", "<0x0A>", "<s>"); empty when out of range.
  virtual std::string token_text(int32_t id) const { return {}; }
  // The id whose vocabulary string is `text`; -1 when there is none.
  virtual int32_t token_id(std::string_view text) const { return -1; }
  // Whether `id` is a special token (decode skips it).
  virtual bool is_special(int32_t id) const { return id >= 0 && (id == bos_id() || id == eos_id()); }
  // Whether encode(text, true) starts with BOS (or other special tokens): LLaMA yes, GPT-2 no.
  virtual bool add_bos_default() const { return bos_id() >= 0; }

  // The pair (a, b) as the model's pair template lays it out (Hugging Face's
  // tokenizer(a, b)): BERT [CLS] a [SEP] b [SEP] with types 0 through the first [SEP], 1
  // after; RoBERTa <s> a </s></s> b </s>, all type 0; what a tokenizer.json post_processor's
  // "pair" says. Without a pair template (this default): encode(a, true) as type 0, then
  // encode(b, true) as type 1 (LLaMA: <s> a <s> b). add_special false: a's ids then b's,
  // all type 0 (as transformers' slow tokenizers give them; the fast ones mark b with 1).
  // (The default is defined in post_processor.cpp.)
  virtual PairEncoding encode_pair(std::string_view a, std::string_view b, bool add_special) const;
};

// Load from a tokenizer file or a folder that holds one. In a folder, tokenizer.json is
// preferred (as Hugging Face does), then tokenizer.model, then DeBERTa's spm.model, then
// vocab.json + merges.txt (RoBERTa / GPT-2), then BERT's vocab.txt, then encoder.json + vocab.bpe.
Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& path);

}  // namespace peft
