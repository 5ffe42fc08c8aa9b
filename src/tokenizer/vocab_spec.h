// VocabSpec: a tokenizer given as plain arrays (how a GGUF file's tokenizer.ggml.* keys carry it).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "tokenizer/tokenizer.h"

namespace peft {

// Token types, numbered as llama.cpp / GGUF's tokenizer.ggml.token_type do.
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6
};

struct VocabSpec {
  // "llama": SentencePiece BPE over `scores` (byte fallback <0xNN>, dummy prefix "▁").
  // "gpt2": byte-level BPE over `merges`, pre-tokenized as `pre` says.
  std::string model;
  std::vector<std::string> tokens;
  std::vector<float> scores;         // "llama": one per token (higher merges first)
  std::vector<int32_t> token_types;  // TokenType values; empty: all normal (<0xNN> as bytes)
  std::vector<std::string> merges;   // "gpt2": "a b" strings, in rank order
  int32_t bos = -1, eos = -1, unk = -1, pad = -1;
  // Whether encode(text, true) adds BOS / EOS; unset: "llama" adds BOS, "gpt2" adds nothing.
  std::optional<bool> add_bos, add_eos;
  // "llama": prepend "▁" to the text (tokenizer.ggml.add_space_prefix; SentencePiece's
  // add_dummy_prefix).
  bool add_space_prefix = true;
  // "llama": SentencePiece's remove_extra_whitespaces (tokenizer.ggml.remove_extra_whitespaces):
  // drop leading and trailing spaces, squeeze runs of spaces to one. LLaMA's model has it
  // off; models trained with sentencepiece's defaults (llama2.c's tok512) have it on.
  bool remove_extra_whitespaces = false;
  // "gpt2": tokenizer.ggml.pre, the pre-tokenizer regexes ("default"/"gpt-2", "llama-bpe",
  // "qwen2", "smollm", ...; empty = "default").
  std::string pre;
};

// A tokenizer for `spec`; `where` (e.g. the GGUF path) prefixes every error.
Result<std::unique_ptr<Tokenizer>> tokenizer_from_vocab(const VocabSpec& spec, const std::string& where);

}  // namespace peft
