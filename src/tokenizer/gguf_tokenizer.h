// GGUF tokenizers: the vocabulary a GGUF file embeds, and a model folder's tokenizer as GGUF data.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "io/gguf_vocab.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_spec.h"

namespace peft {

// The tokenizer stored in a .gguf file's tokenizer.ggml.* metadata ("llama": SentencePiece
// BPE over scores, "gpt2": byte-level BPE over merges). Errors: "<path>: ...".
Result<std::unique_ptr<Tokenizer>> load_gguf_tokenizer(const std::string& path);

VocabSpec vocab_spec_from_gguf(const GgufVocab& vocab);

// A SentencePiece .model as tokenizer.ggml.* data, as llama.cpp's converter writes it:
// pieces, scores, and types (1 normal, 2 unknown, 3 control, 5 unused, 6 byte).
Result<GgufVocab> gguf_vocab_from_sentencepiece(const std::string& model_file);

// A byte-level BPE tokenizer.json (GPT-2 style) as "gpt2" data: tokens by id, merges,
// added tokens typed control (special) or user-defined. `pre` names llama.cpp's
// pre-tokenizer ("gpt-2", "llama-bpe", "qwen2", ...).
Result<GgufVocab> gguf_vocab_from_tokenizer_json(const std::string& path, const std::string& pre);

// The tokenizer of a model folder for export: tokenizer.model when present, else a
// byte-level tokenizer.json; add_bos/add_eos from tokenizer_config.json when it says.
// nullopt when the folder has neither file. `arch` (config model_type) picks `pre`.
Result<std::optional<GgufVocab>> gguf_vocab_from_folder(const std::string& dir, const std::string& arch);

}  // namespace peft
