// SentencePiece (.model) tokenizer with Hugging Face LlamaTokenizer (slow, legacy) behaviour.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "tokenizer/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace peft {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  // Load a serialized ModelProto; errors: "<path>: not a SentencePiece model (...)".
  static Result<std::unique_ptr<SentencePieceTokenizer>> load(const std::string& path);
  ~SentencePieceTokenizer() override;

  // [BOS] + sentencepiece ids of `text` (dummy-prefix space and byte fallback as the
  // model's normalizer spec says); special-token strings in `text` are plain text.
  std::vector<int32_t> encode(std::string_view text, bool add_bos) const override;
  // sentencepiece decode of `ids` without BOS/EOS/PAD; ids outside [0, vocab) are skipped.
  std::string decode(std::span<const int32_t> ids) const override;
  int32_t vocab_size() const override;
  int32_t bos_id() const override;
  int32_t eos_id() const override;
  std::string kind() const override { return "sentencepiece"; }
  std::string token_text(int32_t id) const override { return piece(id); }
  int32_t token_id(std::string_view text) const override;
  bool is_special(int32_t id) const override;  // control pieces (<s>, </s>)

  int32_t unk_id() const;
  int32_t pad_id() const;  // -1 when absent
  // The piece string of `id` ("<s>", "▁the", "<0x0A>"); empty when out of range.
  std::string piece(int32_t id) const;
  const std::string& path() const { return path_; }

 private:
  SentencePieceTokenizer() = default;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::string path_;
};

}  // namespace peft
