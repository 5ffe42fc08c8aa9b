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

// How a GGUF architecture maps onto ours.
struct GgufArch {
  const char* gguf_arch;    // general.architecture
  const char* model_type;   // config.json model_type
  bool permuted_qk;         // llama.cpp's converter interleaved the q/k rotary halves
  bool conv1d;              // the HF checkpoint stores Conv1D (in, out) weights (GPT-2)
};
// nullptr when unsupported.
const GgufArch* find_gguf_arch(const std::string& gguf_arch);
std::string supported_gguf_archs();

// The Hugging Face config.json equivalent of the file's metadata ("llama", "gpt2", "qwen2").
// vocab_size comes from token_embd.weight, tie_word_embeddings from output.weight's absence.
Result<Json> gguf_hf_config(const GgufFile& file);

// The file's tensors under Hugging Face names and layouts: q/k rows back in rotate-half
// order, GPT-2 projections transposed back to Conv1D (in, out). F32/F16/BF16 tensors that
// need no reordering are views into the mapping; Q8_0 is dequantised to F32 (BF16 when
// options.base_dtype asks for it). GGUF names without an HF counterpart keep their name.
Result<std::shared_ptr<const TensorSource>> gguf_tensor_source(std::shared_ptr<const GgufFile> file,
                                                                const Json& config, const LoadOptions& options);

// GgufFile → config → TensorSource → load_model_from.
Result<std::unique_ptr<Model>> load_gguf_model(const std::string& path, const LoadOptions& options = {});

// Row reorders of llama.cpp's converter, per head of `rows / n_head` rows (row_bytes each):
// HF row h·hd + s·hd/2 + i  <->  GGUF row h·hd + 2i + s. rows must be a multiple of 2·n_head.
void permute_rows_hf_to_gguf(void* dst, const void* src, int64_t rows, size_t row_bytes, int64_t n_head);
void permute_rows_gguf_to_hf(void* dst, const void* src, int64_t rows, size_t row_bytes, int64_t n_head);

}  // namespace peft
