// Shared by Gemma, Gemma 2 and Gemma 3 (archs/gemma*.cpp): the LLaMA layout with √C-scaled
// embeddings, (1 + w) RMSNorms, a tanh-GELU gated MLP, a tied head and head_dim 256 by default.
#pragma once
#include "model/archs/llama_family.h"

namespace peft {

// What the generations add to Gemma 1 (transformers 4.57's modeling_gemma2/3).
struct GemmaGeneration {
  const char* arch;                  // model_type
  const char* activation_key;        // "hidden_act" (Gemma 1) or "hidden_activation" (2, 3)
  double default_theta;              // rope_theta when absent (Gemma 3: 1e6)
  int64_t default_max_positions;     // max_position_embeddings when absent (8192; Gemma 3: 131072)
  bool sandwich_norms = false;       // pre- and post-norms around attention and MLP (2, 3)
  bool scaled_inputs_embeds = true;  // the √C scale applies to every input vector (1, 2) or
                                     // only to token lookups (3: Gemma3TextScaledWordEmbedding)
};

// Reads the keys the generations share; `j` must carry a flat RoPE config (Gemma 3's per-layer-
// type rope_parameters are split by the caller).
Result<ModelConfig> parse_gemma_family(const Json& j, const std::string& where, const GemmaGeneration& gen);

// Gemma 2/3's alternating attention: per layer, sliding or full, from `layer_types` or every
// layer whose (index + 1) is not a multiple of `pattern` sliding (transformers' rule).
Status read_sliding_layers(const Json& j, const std::string& where, int64_t pattern, ModelConfig& c);
// query_pre_attn_scalar^-½ (Gemma 2/3's score scale; 256 when absent).
Status read_query_pre_attn_scalar(const Json& j, const std::string& where, ModelConfig& c);

TensorNames gemma_names(const ModelConfig& c);  // LLaMA's names; Gemma 2/3's four norms
std::vector<std::string> gemma_reads(std::vector<std::string> more = {});

// GGUF: llama.cpp's gemma keys on top of the llama family's (head_dim is always written).
Result<Json> read_gemma_gguf(const GgufFile& f, Json config, const char* activation_key);
// Whether the model's score scale is the one llama.cpp's gemma2/gemma3 graphs use: they read no
// key for it, taking 1/√head_dim, or 1/√(C/H) for the 27B shape (`n_layer_27b` layers).
bool llama_cpp_gemma_scale_matches(const ModelConfig& c, int64_t n_layer_27b);
// The period p llama.cpp's attention.sliding_window_pattern holds for this model's layers
// (layer l sliding iff l % p < p − 1); refuses a layout no period gives.
Result<int64_t> sliding_period(const ModelConfig& c, const std::string& what, const std::string& where);
// GGUF → config.json: the window and layer_types from the file's period, with llama.cpp's
// defaults for the architecture when the keys are absent (a window of 0: no sliding layers).
Status read_gemma_gguf_windows(const GgufFile& f, const std::string& arch, int64_t default_window,
                               int64_t default_period, Json& c);

}  // namespace peft
