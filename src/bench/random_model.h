// Random-weight models of known shapes (benchmarks): preset configs and an in-memory TensorSource.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/dtype.h"
#include "core/status.h"
#include "io/json_file.h"
#include "model/model.h"

namespace peft::bench {

// The Hugging Face config.json of a preset: gpt2-124m (gpt2), smollm-135m, tinyllama-1.1b,
// stories260k, llama3.2-1b, llama3.1-8b (llama), qwen3-0.6b, gemma2-2b — real configs' sizes.
// `arch` may be empty (the preset's own) and must match otherwise.
Result<Json> preset_config(const std::string& preset, const std::string& arch);
std::string preset_names();  // "gpt2-124m, ..."
// The preset's default benchmark batch (B, T).
void preset_default_batch(const std::string& preset, int64_t& B, int64_t& T);

// Builds a model from `config` (any registered architecture) with N(0, 0.02) matrices (norms
// scaling by 1, biases 0) stored in `base` (F32 or BF16), served under the Hugging Face names
// through an in-memory TensorSource and bound by load_model_from. Source buffers the model copied
// (GPT-2's transposed Conv1D files) are freed afterwards, so memory is what training needs.
Result<std::unique_ptr<Model>> random_model(const Json& config, DType base, uint64_t seed);

}  // namespace peft::bench
