// LLM-Adapters' tokenize + generate_and_tokenize_prompt: prompt -> ids and HF-style labels.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "data/dataset.h"
#include "tokenizer/tokenizer.h"

namespace peft {

// Label value that the loss ignores (PyTorch's CrossEntropyLoss ignore_index).
inline constexpr int32_t kIgnoreLabel = -100;

struct TokenizeOptions {
  int64_t cutoff_len = 256;     // max ids per example, BOS and EOS included (LLM-Adapters default)
  bool train_on_inputs = true;  // false: the user prompt's labels become kIgnoreLabel
  bool add_eos = true;          // append EOS when it fits (tokenize(add_eos_token=True))
};

struct TokenizedExample {
  std::vector<int32_t> ids;     // (T) T <= cutoff_len
  std::vector<int32_t> labels;  // (T) ids, or kIgnoreLabel where masked; aligned with ids (not shifted)
  // (T) each id's modality id (input-centric adapters: 0 = text), from the record's
  // segments (token_modality.h); empty = all text. tokenize_record leaves it empty.
  std::vector<int32_t> modality;
  // Examples for a task head (encoders' classifiers): (T) token types (empty = all 0) and the
  // head's labels: one class id or score, or num_labels 0/1 values (multi-label). labels are
  // then all kIgnoreLabel (no LM loss).
  std::vector<int32_t> token_types;
  std::vector<float> task_labels;
  int64_t n_masked = 0;    // leading labels set to kIgnoreLabel (user prompt length, clipped to T)
  bool truncated = false;  // the full prompt had more than cutoff_len ids
};

// tokenize(prompt, add_eos_token): the tokenizer's own special tokens (BOS for LLaMA) as
// Hugging Face adds them, truncated to cutoff_len the way HF does (text ids are cut, special
// tokens kept), then EOS appended when the last id isn't EOS and there is room (so a
// truncated example gets no EOS). labels = ids.
TokenizedExample tokenize_prompt(const Tokenizer& tokenizer, std::string_view prompt, int64_t cutoff_len, bool add_eos);

// generate_and_tokenize_prompt: tokenizes the full prompt; without train_on_inputs the user
// prompt (output "") is tokenized on its own, without EOS, and that many leading labels are
// masked. As in LLM-Adapters the two tokenizations may split the boundary differently (the
// user prompt ends in 16 spaces), so the mask can be one token off the "true" boundary.
TokenizedExample tokenize_record(const Tokenizer& tokenizer, const Record& record, const TokenizeOptions& options);

// All records, in order, in parallel (the tokenizers are safe to share across threads).
std::vector<TokenizedExample> tokenize_records(const Tokenizer& tokenizer, std::span<const Record> records,
                                               const TokenizeOptions& options);

}  // namespace peft
