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
// scaling by 1, biases 0) stored in `base` (F32 or BF16; Q8_0, Q4_0, Q4_K or NF4 draw BF16
// weights and quantize the projections at load), served under the Hugging Face names
// through an in-memory TensorSource and bound by load_model_from. Source buffers the model copied
// (GPT-2's transposed Conv1D files) are freed afterwards, so memory is what training needs.
Result<std::unique_ptr<Model>> random_model(const Json& config, DType base, uint64_t seed,
                                            bool quantize_embeddings = false);

// The storage types of a model's block projections, in order of first use: "BF16", "Q4_K+Q6_K".
std::string describe_base(const Model& m);

// The model a benchmark runs: the model folder or file `path` (a quantized GGUF file stays
// quantized; `base` from --base-dtype) when given, else a random model of `preset` in `base`
// (default F32).
Result<std::unique_ptr<Model>> bench_model(const std::string& path, const std::string& preset, const std::string& arch,
                                           const LoadOptions& base, uint64_t seed);

}  // namespace peft::bench
