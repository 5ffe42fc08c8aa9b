// llama2.c checkpoints (legacy version 0 and "ak42" version 1, fp32) read into HF LLaMA tensors.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace peft {

struct Llama2cConfig {
  int32_t dim = 0;
  int32_t hidden_dim = 0;
  int32_t n_layers = 0;
  int32_t n_heads = 0;
  int32_t n_kv_heads = 0;
  int32_t vocab_size = 0;  // always positive here; the sign trick is decoded
  int32_t seq_len = 0;
  bool shared_classifier = true;  // lm_head tied to the token embeddings
  int32_t version = 0;            // 0 = legacy run.c format, 1 = export.py --version 1
  int32_t head_size() const { return dim / n_heads; }
  int32_t kv_dim() const { return head_size() * n_kv_heads; }
};

struct Llama2cCheckpoint {
  Llama2cConfig config;
  // Hugging Face LLaMA names in model order (embed, layers..., norm, lm_head); q/k
  // are permuted to HF's rotate_half layout. lm_head only when not shared.
  std::vector<std::pair<std::string, OwnedTensor>> tensors;
  const OwnedTensor* find(const std::string& name) const;
};

// Reads and validates the header (positive sizes, dim % n_heads, n_heads % n_kv_heads,
// even head size) and the exact file size; errors name the path.
Result<Llama2cCheckpoint> read_llama2c(const std::string& path);

// llama2.c's interleaved RoPE rows (2i, 2i+1) -> HF's rotate_half rows (i, i + hd/2), per
// head, as convert_llama_weights_to_hf.py permutes wq/wk: W.view(n_heads, hd/2, 2, cols)
// .transpose(1, 2).reshape(n_heads*hd, cols). `src` and `dst` hold n_heads*hd rows of
// `cols` floats and must not overlap.
void permute_rope_rows(float* dst, const float* src, int64_t n_heads, int64_t head_size, int64_t cols);

}  // namespace peft
