// Hugging Face tokenizer.json (BPE models) -> TokenizerSpec -> HfBpeTokenizer.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_spec.h"

namespace peft {

// The pipeline a tokenizer.json document describes; `path` names the file in messages.
// bos/eos come from the post_processor (first token it prepends / last it appends).
Result<TokenizerSpec> parse_tokenizer_json(const Json& root, const std::string& path);

// tokenizer.json, plus tokenizer_config.json when it lies beside it: its bos_token /
// eos_token name BOS/EOS, and for LLaMA/Gemma tokenizer classes add_bos_token /
// add_eos_token decide what encode(text, true) adds (as transformers' fast tokenizers do).
Result<std::unique_ptr<Tokenizer>> load_tokenizer_json(const std::string& path);

// {"token": id, ...} -> vocab[id] = token. Errors: non-integer or negative ids, two
// tokens with one id.
Status read_vocab_object(const Json& obj, const std::string& where, std::vector<std::string>& vocab);

}  // namespace peft
