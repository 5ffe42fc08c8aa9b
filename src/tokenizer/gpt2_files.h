// GPT-2's original tokenizer files: encoder.json (token -> id) and vocab.bpe (merges).
#pragma once
#include <memory>
#include <string>

#include "core/status.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_spec.h"

namespace peft {

// The byte-level BPE pipeline Hugging Face's GPT2Tokenizer runs on these files: ByteLevel
// pre-tokenizer (GPT-2 regex, no prefix space), ByteLevel decoder, <|endoftext|> as the
// special BOS/EOS token, nothing added by encode(text, true).
Result<TokenizerSpec> gpt2_spec_from_files(const std::string& encoder_json, const std::string& vocab_bpe);
Result<std::unique_ptr<Tokenizer>> load_gpt2_files(const std::string& encoder_json, const std::string& vocab_bpe);

}  // namespace peft
