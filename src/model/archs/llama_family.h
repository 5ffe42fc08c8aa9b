// Shared config parsing for LLaMA-layout architectures (llama, mistral, qwen2).
#pragma once
#include "model/arch.h"

namespace peft {

// Reads the keys every LLaMA-layout config shares; the caller adjusts what differs.
Result<ModelConfig> parse_llama_family(const Json& j, const std::string& where, const std::string& arch,
                                       bool default_qkv_bias);
TensorNames llama_family_names(const ModelConfig& c);
// PEFT's and LLM-Adapters' default targets, the same for llama, mistral and qwen2.
extern const DefaultTargets kLlamaFamilyTargets;
// The math keys parse_llama_family reads (ArchDef::reads); an architecture adds its own.
std::vector<std::string> llama_family_reads(std::vector<std::string> more = {});

// GGUF (archs/llama_family_gguf.cpp): llama.cpp's llama (mistral exports as it) and qwen2.
extern const GgufArchDef kLlamaGguf;
extern const GgufArchDef kQwen2Gguf;
extern const GgufArchDef kQwen3Gguf;
// The llama-family GGUF metadata both ways, for architectures that add to it (smollm3).
Result<Json> read_llama_family_gguf(const GgufFile& f, Json config);
// What a llama-family GGUF architecture adds to the llama block; the writer refuses a model
// whose block differs from what `arch` holds (each arch file says, no name comparisons).
struct LlamaFamilyGguf {
  QkNorm qk_norm = QkNorm::None;      // qwen3: per head, olmo2: whole projection
  bool input_norms = true;            // olmo2: none
  bool output_norms = false;          // olmo2
  bool nope_layers = false;           // smollm3: layers without RoPE (the arch file checks the pattern)
  Activation act = Activation::Silu;  // gemma: tanh GELU
  // gemma*: √C-scaled embeddings, soft-caps and sliding layers (the arch file writes their keys
  // and checks what llama.cpp fixes); the others refuse them.
  bool gemma = false;
};
Status write_llama_family_gguf(const std::string& arch, const LlamaFamilyGguf& shape, const ModelConfig& c,
                               GgufWriter& w, const std::string& where);

}  // namespace peft
