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

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Token ids of `text`; add_bos prepends BOS when the tokenizer has one (LlamaTokenizer
  // does by default, GPT-2's does not).
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos) const = 0;
  // Text of `ids` with special tokens (BOS/EOS/PAD) skipped.
  virtual std::string decode(std::span<const int32_t> ids) const = 0;
  virtual int32_t vocab_size() const = 0;
  virtual int32_t bos_id() const = 0;  // -1 when absent
  virtual int32_t eos_id() const = 0;  // -1 when absent
  virtual std::string kind() const = 0;  // e.g. "sentencepiece"
};

// Load from a tokenizer file or a folder that holds one (tokenizer.model, ...).
Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& path);

}  // namespace peft
