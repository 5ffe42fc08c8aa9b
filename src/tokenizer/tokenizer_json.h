// Hugging Face tokenizer.json -> TokenizerSpec -> HfBpeTokenizer (BPE models), or -> the
// WordPiece tokenizer (wordpiece_files.h).
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
// A "WordPiece" model goes to load_wordpiece_json.
Result<std::unique_ptr<Tokenizer>> load_tokenizer_json(const std::string& path);

// The "added_tokens" array of `root` (absent or null: none), appended to `out`.
Status parse_added_tokens(const Json& root, const std::string& path, std::vector<AddedTokenSpec>& out);
// A "post_processor" value (null: none): what it puts around one sequence (spec.prefix_ids /
// suffix_ids) and around a pair (spec.pair_template). TemplateProcessing, BertProcessing,
// RobertaProcessing, ByteLevel, Sequence.
Status parse_post_processor(const Json& p, const std::string& path, TokenizerSpec& spec);

// {"token": id, ...} -> vocab[id] = token. Errors: non-integer or negative ids, two
// tokens with one id.
Status read_vocab_object(const Json& obj, const std::string& where, std::vector<std::string>& vocab);

}  // namespace peft
