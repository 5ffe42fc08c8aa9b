// Arena sizing of a block's saved activations and of the gradient scratch all blocks share.
#include <algorithm>

#include "model/block.h"

namespace peft {

template <typename Alloc>
LayerActs alloc_layer_acts(Alloc& arena, const ModelConfig& c, int64_t B, int64_t T, bool training) {
  const int64_t N = B * T, C = c.n_embd, F = c.n_ff;
  LayerActs a;
  a.x_in = arena.alloc_f32({N, C});
  a.n1 = arena.alloc_f32({N, C});
  a.n1_mean = arena.alloc_f32({N});
  a.n1_rstd = arena.alloc_f32({N});
  if (c.block.qkv != QkvLayout::Separate) a.qkv = arena.alloc_f32({N, c.q_dim() + 2 * c.kv_dim()});
  if (c.block.qk_norm != QkNorm::None) {
    a.q_raw = arena.alloc_f32({N, c.q_dim()});
    a.k_raw = arena.alloc_f32({N, c.kv_dim()});
    a.q_rstd = arena.alloc_f32({N * c.n_head});
    a.k_rstd = arena.alloc_f32({N * c.n_head_kv});
  }
  const int64_t R = c.rel.rows();
  if (R > 0) a.attn_x = arena.alloc_f32({N + R, C});
  a.q = arena.alloc_f32({N + R, c.q_dim()});
  a.k = arena.alloc_f32({N + R, c.kv_dim()});
  a.v = arena.alloc_f32({N, c.kv_dim()});
  if (training) a.lse = arena.alloc_f32({B, c.n_head, T});
  a.att = arena.alloc_f32({N, c.q_dim()});
  a.x_mid = arena.alloc_f32({N, C});
  a.n2 = arena.alloc_f32({N, C});
  a.n2_mean = arena.alloc_f32({N});
  a.n2_rstd = arena.alloc_f32({N});
  a.ff_up = arena.alloc_f32({N, F});
  if (c.block.gated_mlp) a.ff_gate = arena.alloc_f32({N, F});
  if (c.block.fused_gate_up) a.ff_gate_up = arena.alloc_f32({N, 2 * F});
  a.ff_h = arena.alloc_f32({N, F});
  if (c.block.output_norms) {
    a.attn_y = arena.alloc_f32({N, C});
    a.attn_y_mean = arena.alloc_f32({N});
    a.attn_y_rstd = arena.alloc_f32({N});
    a.ffn_y = arena.alloc_f32({N, C});
    a.ffn_y_mean = arena.alloc_f32({N});
    a.ffn_y_rstd = arena.alloc_f32({N});
  }
  return a;
}

template <typename Alloc>
BlockGrads alloc_block_grads(Alloc& arena, const ModelConfig& c, int64_t N, int64_t kv_tokens) {
  const int64_t C = c.n_embd, F = c.n_ff, R = c.rel.rows();
  BlockGrads g;
  g.d_n1 = arena.alloc_f32({N, C});
  g.d_n2 = arena.alloc_f32({N, C});
  g.d_x_mid = arena.alloc_f32({N, C});
  if (c.block.output_norms) g.d_sub = arena.alloc_f32({N, C});
  g.d_att = arena.alloc_f32({N, c.q_dim()});
  g.d_q = arena.alloc_f32({N + R, c.q_dim()});
  g.d_k = arena.alloc_f32({std::max(N, kv_tokens) + R, c.kv_dim()});
  g.d_v = arena.alloc_f32({std::max(N, kv_tokens), c.kv_dim()});
  if (c.block.qk_norm != QkNorm::None) {
    g.d_q_raw = arena.alloc_f32({N, c.q_dim()});
    g.d_k_raw = arena.alloc_f32({N, c.kv_dim()});
  }
  if (c.block.qkv != QkvLayout::Separate) g.d_qkv = arena.alloc_f32({N, c.q_dim() + 2 * c.kv_dim()});
  g.d_ff_h = arena.alloc_f32({N, F});
  g.d_ff_up = arena.alloc_f32({N, F});
  if (c.block.gated_mlp) g.d_ff_gate = arena.alloc_f32({N, F});
  if (c.block.fused_gate_up) g.d_ff_gate_up = arena.alloc_f32({N, 2 * F});
  g.d_lin_in = arena.alloc_f32({N + R, std::max({C, F, c.q_dim()})});
  if (R > 0) g.d_attn_x = arena.alloc_f32({N + R, C});
  return g;
}

template LayerActs alloc_layer_acts<Arena>(Arena&, const ModelConfig&, int64_t, int64_t, bool);
template LayerActs alloc_layer_acts<SizingArena>(SizingArena&, const ModelConfig&, int64_t, int64_t, bool);
template BlockGrads alloc_block_grads<Arena>(Arena&, const ModelConfig&, int64_t, int64_t);
template BlockGrads alloc_block_grads<SizingArena>(SizingArena&, const ModelConfig&, int64_t, int64_t);

}  // namespace peft
