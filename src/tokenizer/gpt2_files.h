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

// A Hugging Face folder's vocab.json + merges.txt (the slow GPT2Tokenizer's and RobertaTokenizer's
// files; the same formats as encoder.json / vocab.bpe). tokenizer_config.json's tokenizer_class
// (or config.json's model_type) picks the class: RoBERTa puts <s> text </s> around a text and
// <s> a </s></s> b </s> around a pair, its specials <s> <pad> </s> <unk> <mask> (<mask> takes the
// space before it, lstrip); GPT-2 adds nothing and has <|endoftext|>. add_prefix_space and the
// special tokens come from tokenizer_config.json / special_tokens_map.json.
Result<std::unique_ptr<Tokenizer>> load_vocab_merges(const std::string& dir);

}  // namespace peft
