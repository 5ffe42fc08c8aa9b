// What transformers' slow (Python) tokenizers read beside their vocabulary file:
// tokenizer_config.json and special_tokens_map.json (the special tokens), added_tokens.json
// (tokens added past the vocabulary). Shared by BERT's vocab.txt and DeBERTa's spm.model.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"

namespace peft {

// The special tokens; an empty string is none (null in the config). Defaults are the
// tokenizer class's own (BertTokenizer has no bos/eos; DebertaV2Tokenizer's are [CLS]/[SEP]).
struct SpecialTokenNames {
  std::string bos, eos, unk = "[UNK]", sep = "[SEP]", pad = "[PAD]", cls = "[CLS]", mask = "[MASK]";
  std::vector<std::string> additional;

  // In transformers' order (SPECIAL_TOKENS_ATTRIBUTES), without repeats or empties.
  std::vector<std::string> all() const;
};

// Overrides `s` with the token fields `config` has ("[CLS]", {"content": "[CLS]", ...} or null).
Status read_special_tokens(const Json& config, const std::string& where, SpecialTokenNames& s);

// The file's JSON object, or null when there is no such file.
Result<Json> read_json_if_present(const std::filesystem::path& path);

// added_tokens.json ({"token": id, ...}) as (id, token) in id order; errors name `where`.
Result<std::vector<std::pair<int64_t, std::string>>> added_tokens_by_id(const Json& added, const std::string& where);

}  // namespace peft
