// One transformer block, forward and backward, for every architecture (driven by BlockSpec).
#pragma once
#include <cstdint>

#include "core/arena.h"
#include "core/tensor.h"
#include "model/model.h"
#include "model/site.h"

namespace peft {

// What a block keeps from its forward for the backward (training), or scratch (inference).
struct LayerActs {
  Tensor x_in;                  // (N, C) residual stream entering the block
  Tensor n1, n1_mean, n1_rstd;  // (N, C), (N), (N) attention-side norm
  Tensor qkv;                   // (N, q_dim + 2·kv_dim) fused projection output
  Tensor q_raw, k_raw;          // (N, H·hd), (N, Hkv·hd) projections before the q/k norms (qk_norm)
  Tensor q_rstd, k_rstd;        // (N·H), (N·Hkv) their per-head 1/rms
  Tensor q;                     // (N, H·hd) after RoPE; (N + R, H·hd) with relative rows
  Tensor k, v;                  // (N, Hkv·hd) this call's keys (after RoPE) and values; k (N + R, ·) as q
  Tensor attn_x;                // (N + R, C) [attention input ; relative embeddings] (RelativeAttention)
  Tensor lse;                   // (B, H, T) log-sum-exp of each attention row (training only)
  Tensor att;                   // (N, H·hd) attention output, input of the o-projection
  Tensor x_mid;                 // (N, C) residual after attention (sequential blocks)
  Tensor n2, n2_mean, n2_rstd;  // MLP-side norm
  // Sublayer outputs before their output norms (BlockSpec::output_norms), with the norms' stats.
  Tensor attn_y, attn_y_mean, attn_y_rstd;  // (N, C), (N), (N)
  Tensor ffn_y, ffn_y_mean, ffn_y_rstd;     // (N, C), (N), (N)
  Tensor ff_up;                             // (N, F) up / fc pre-activation
  Tensor ff_gate;                           // (N, F) gate pre-activation (gated MLPs)
  Tensor ff_gate_up;                        // (N, 2F) the fused projection's output [gate | up] (fused_gate_up)
  Tensor ff_h;                              // (N, F) input of the down projection
};

// Where a block reads and writes keys/values. Training: the layer's own k/v (kv_rows = T,
// past = 0). Inference: a KV cache (kv_rows = capacity, past = tokens already cached).
struct KvView {
  float* k = nullptr;  // (B, kv_rows, Hkv·hd)
  float* v = nullptr;
  int64_t kv_rows = 0;
  int64_t past = 0;
  const int32_t* key_pad = nullptr;  // (B) left padding: row b's keys [pad_at, pad_at + key_pad[b]) are
  int64_t pad_at = 0;                // masked (AttentionShape::key_pad); null = none
  const int32_t* key_len = nullptr;  // (B) encoders' real keys per row (right padding); null = all
  // Ragged batch (inference): row b appends to and reads its own cache row_k[b] / row_v[b]
  // (rows, Hkv·hd), which holds row_past[b] positions; k, v, kv_rows and past are unused.
  float* const* row_k = nullptr;      // (B)
  float* const* row_v = nullptr;      // (B)
  const int32_t* row_past = nullptr;  // (B)
};

struct BlockRun {
  const Model* model = nullptr;
  int64_t layer = 0;
  int64_t B = 0, T = 0;
  const int32_t* positions = nullptr;  // (B·T) absolute position of each token
  KvView kv;
  SiteHooks* hooks = nullptr;  // adapters, or null for the bare model
};

// Allocates a LayerActs for B·T tokens from any allocator with alloc_f32(dims)
// (Arena, or a sizing pass). `training` adds the tensors only the backward needs.
template <typename Alloc>
LayerActs alloc_layer_acts(Alloc& arena, const ModelConfig& c, int64_t B, int64_t T, bool training);

// x_out (N, C) = block(a.x_in). Fills a's intermediates.
void block_forward(const BlockRun& run, LayerActs& a, float* x_out);

// Gradient scratch shared by all layers (sized once).
struct BlockGrads {
  Tensor d_n1, d_n2;                  // (N, C)
  Tensor d_x_mid;                     // (N, C)
  Tensor d_sub;                       // (N, C) ∂L/∂(sublayer output) through an output norm
  Tensor d_att;                       // (N, H·hd)
  Tensor d_q, d_k, d_v;               // (N, H·hd), (kv_tokens, Hkv·hd) ×2 (compacted to N rows)
  Tensor d_q_raw, d_k_raw;            // (N, H·hd), (N, Hkv·hd) before the q/k norms (qk_norm)
  Tensor d_qkv;                       // (N, q_dim + 2·kv_dim)
  Tensor d_ff_h, d_ff_up, d_ff_gate;  // (N, F)
  Tensor d_ff_gate_up;                // (N, 2F) (fused_gate_up)
  Tensor d_lin_in;                    // (N + R, max in) ∂L/∂(adapted projection input), for input hooks
  Tensor d_attn_x;                    // (N + R, C) ∂L/∂attn_x (RelativeAttention)
};
// kv_tokens: rows of the key/value buffers (B · (prefix + T)), ≥ N. R = config.rel.rows():
// the relative embeddings' rows that follow the tokens' through the q/k projections.
template <typename Alloc>
BlockGrads alloc_block_grads(Alloc& arena, const ModelConfig& c, int64_t N, int64_t kv_tokens);

// Given d_x_out (N, C) = ∂L/∂(block output), overwrites d_x_in (N, C) with ∂L/∂(block input).
// Only activations get gradients (the base is frozen). d_x_in may not alias d_x_out.
void block_backward(const BlockRun& run, const LayerActs& a, BlockGrads& g, const float* d_x_out, float* d_x_in);

// Counts bytes instead of allocating (first pass of arena sizing).
struct SizingArena {
  size_t used = 0;
  Tensor alloc_f32(const std::vector<int64_t>& dims) {
    used += Arena::bytes_for(DType::F32, dims);
    return Tensor(nullptr, DType::F32, dims);
  }
};

}  // namespace peft
