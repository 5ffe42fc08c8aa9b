// The tokenizer a GGUF file embeds (tokenizer.ggml.*), read from and written to metadata.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"

namespace peft {

// tokenizer.ggml.token_type values (SentencePiece's piece types, 1-based).
enum class GgufTokenType : int32_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

struct GgufVocab {
  std::string model;  // "llama" (SentencePiece) or "gpt2" (byte-level BPE)
  std::string pre;    // tokenizer.ggml.pre (BPE pre-tokenizer), empty when absent
  std::vector<std::string> tokens;
  std::vector<float> scores;         // empty, or one per token
  std::vector<int32_t> token_types;  // empty, or one per token
  std::vector<std::string> merges;   // "left right", BPE only
  int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;
  std::optional<bool> add_bos, add_eos;
  std::optional<bool> add_space_prefix;  // SentencePiece's dummy prefix (llama.cpp: default true)
  // SentencePiece's normalizer squeezing spaces (tokenizer.ggml.remove_extra_whitespaces;
  // llama.cpp reads it for UGM vocabularies only).
  std::optional<bool> remove_extra_whitespaces;
};

// nullopt when the file has no tokenizer.ggml.model; errors for wrongly typed arrays or
// scores/token_type lengths that differ from the token count. Special-token ids outside
// the vocabulary are dropped (-1), as llama.cpp does.
Result<std::optional<GgufVocab>> read_gguf_vocab(const GgufFile& file);

// Sets the tokenizer.ggml.* keys llama.cpp reads.
void write_gguf_vocab(GgufWriter& writer, const GgufVocab& vocab);

}  // namespace peft
