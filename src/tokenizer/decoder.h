// Decoders of a tokenizer.json pipeline: token strings -> text (ByteLevel, ByteFallback, ...).
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "tokenizer/normalize.h"
#include "tokenizer/tokenizer_spec.h"

namespace peft {

class Decoder {
 public:
  // `has_decoder` false: tokenizer.json's "decoder": null, which joins tokens with spaces.
  static Result<Decoder> build(const std::vector<DecoderStep>& steps, bool has_decoder, const std::string& where);

  // The text of `tokens` (vocabulary strings). Bytes from ByteLevel and <0xNN> tokens are
  // kept as they are even when they do not form valid UTF-8 (Hugging Face substitutes
  // U+FFFD), so a caller that decodes a growing id list sees the text only grow.
  std::string decode(std::vector<std::string> tokens) const;

 private:
  struct Step {
    DecoderStep spec;
    Replacer replace;
  };
  std::vector<Step> steps_;
  bool has_decoder_ = true;
};

}  // namespace peft
