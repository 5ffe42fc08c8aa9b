// Models from GGUF files: config.json synthesised from metadata, tensors under Hugging Face names.
#pragma once
#include <memory>
#include <string>

#include "core/status.h"
#include "io/gguf.h"
#include "io/json_file.h"
#include "io/tensor_source.h"
#include "model/model.h"

namespace peft {

// The Hugging Face config.json equivalent of the file's metadata, read by the architecture
// that general.architecture names (ArchDef::gguf). vocab_size comes from token_embd.weight,
// tie_word_embeddings from output.weight's absence. A file whose general.type is "adapter"
// is refused (an adapter, not a model).
Result<Json> gguf_hf_config(const GgufFile& file);

// The file's tensors under Hugging Face names and layouts: rows back in Hugging Face order
// (llama.cpp's q/k interleave, BLOOM/GPT-NeoX [q | k | v] blocks), GPT-2 projections
// transposed back to Conv1D (in, out) except quantized ones, which stay (out, in) in their
// blocks. Tensors that need no reordering are views into the mapping, quantized ones included
// (the model binder applies options.base_dtype).
// GGUF names without a Hugging Face counterpart keep their name (listed, never bound).
Result<std::shared_ptr<const TensorSource>> gguf_tensor_source(std::shared_ptr<const GgufFile> file, const Json& config,
                                                               const LoadOptions& options);

// GgufFile → config → TensorSource → load_model_from.
Result<std::unique_ptr<Model>> load_gguf_model(const std::string& path, const LoadOptions& options = {});

}  // namespace peft
