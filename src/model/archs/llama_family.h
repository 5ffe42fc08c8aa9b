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
// The same, accepting a rotary dimension below the head size (partial_rotary_factor: phi3).
Result<Json> read_llama_family_gguf_keys(const GgufFile& f, Json config, bool partial_rotary);
// RoPE frequency factors as llama.cpp holds them: Llama 3's rope_freqs tensor (divisors of each
// frequency), LongRoPE's rope_factors_long/short tensors with rope.scaling.{type, attn_factor,
// original_context_length}, or linear scaling's two keys. Reading gives transformers' config
// (rope_freqs as longrope with equal lists: the same math); writing refuses what llama.cpp lacks.
Status read_gguf_rope_factors(const GgufFile& f, const std::string& arch, int64_t rot_dim, Json& config);
Status write_gguf_rope_factors(const RopeSpec& rope, const std::string& arch, GgufWriter& w, const std::string& where);
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
