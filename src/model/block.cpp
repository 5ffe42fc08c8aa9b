// Block forward/backward: pre-norm attention + MLP, sequential or parallel residual.
#include "model/block.h"

#include <algorithm>
#include <cstring>

#include "core/check.h"
#include "kernels/activations.h"
#include "kernels/attention.h"
#include "kernels/disentangled_attention.h"
#include "kernels/flash_attention.h"
#include "kernels/matmul.h"
#include "kernels/norms.h"
#include "kernels/rope.h"

namespace peft {

namespace {

float* fptr(const Tensor& t) { return static_cast<float*>(t.data); }
const float* bias_of(const Linear& l) { return l.has_bias() ? l.b.f32() : nullptr; }
void zero(const Tensor& t) {
  if (t.data) std::memset(t.data, 0, t.nbytes());
}
void add_into(float* y, const float* x, int64_t n) {
#pragma omp parallel for simd
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

// The single funnel for every projection of a block: adapters' input hook, base GEMM,
// adapters' output hook.
void project(const BlockRun& r, Site site, const Linear& l, const float* x, float* y, int64_t N) {
  if (!r.hooks) {
    linear_forward(y, x, l.w, bias_of(l), N);
    return;
  }
  linear_forward(y, r.hooks->linear_input(site, r.layer, x, N), l.w, bias_of(l), N);
  r.hooks->linear_output(site, r.layer, x, y, N);
}
// dx (N, in) += ∂L/∂x through the base projection and the adapters (x is the saved input).
void project_backward(const BlockRun& r, Site site, const Linear& l, const float* x, const float* dy, float* dx,
                      int64_t N, float* scratch) {
  if (!r.hooks) {
    linear_backward_input(dx, dy, l.w, N);
    return;
  }
  const float* dy_base = r.hooks->linear_output_backward(site, r.layer, x, dy, dx, N);
  if (!r.hooks->has_input_hook(site, r.layer)) {
    linear_backward_input(dx, dy_base, l.w, N);
    return;
  }
  std::memset(scratch, 0, size_t(N * l.in()) * sizeof(float));
  linear_backward_input(scratch, dy_base, l.w, N);
  r.hooks->linear_input_backward(site, r.layer, x, scratch, dx, N);
}

void norm_forward(const ModelConfig& c, const Norm& n, float* out, float* mean, float* rstd, const float* x,
                  int64_t N) {
  if (c.block.norm == NormKind::RmsNorm)
    rmsnorm_forward(out, rstd, x, n.w.f32(), N, c.n_embd, c.norm_eps);
  else
    layernorm_forward(out, mean, rstd, x, n.w.f32(), n.b.data ? n.b.f32() : nullptr, N, c.n_embd, c.norm_eps);
}

void norm_backward(const ModelConfig& c, const Norm& n, float* dx, const float* dout, const float* x, const float* mean,
                   const float* rstd, int64_t N) {
  if (c.block.norm == NormKind::RmsNorm)
    rmsnorm_backward(dx, nullptr, dout, x, n.w.f32(), rstd, N, c.n_embd);
  else
    layernorm_backward(dx, nullptr, nullptr, dout, x, n.w.f32(), mean, rstd, N, c.n_embd);
}

// Column offset of q / k / v head `h` inside a fused projection row.
int64_t fused_offset(const ModelConfig& c, int which, int64_t h) {
  const int64_t hd = c.head_dim;
  if (c.block.qkv == QkvLayout::PerHead) return h * 3 * hd + which * hd;
  // Blocked: [q (H·hd) | k (Hkv·hd) | v (Hkv·hd)]
  return which == 0 ? h * hd : c.q_dim() + (which - 1) * c.kv_dim() + h * hd;
}

// Copies between the fused (N, D) layout and separate q/k/v; to_fused=false splits.
void fused_copy(const ModelConfig& c, float* fused, float* q, float* k, float* v, int64_t N, bool to_fused) {
  const int64_t D = c.q_dim() + 2 * c.kv_dim(), hd = c.head_dim;
#pragma omp parallel for
  for (int64_t n = 0; n < N; ++n) {
    float* row = fused + n * D;
    for (int which = 0; which < 3; ++which) {
      const int64_t heads = which == 0 ? c.n_head : c.n_head_kv;
      float* sep = which == 0 ? q + n * c.q_dim() : (which == 1 ? k : v) + n * c.kv_dim();
      for (int64_t h = 0; h < heads; ++h) {
        float* f = row + fused_offset(c, which, h);
        if (to_fused)
          std::memcpy(f, sep + h * hd, size_t(hd) * sizeof(float));
        else
          std::memcpy(sep + h * hd, f, size_t(hd) * sizeof(float));
      }
    }
  }
}

AttentionShape attention_shape(const BlockRun& r) {
  const ModelConfig& c = r.model->config;
  AttentionShape s;
  s.B = r.B;
  s.T = r.T;
  s.Tk = r.kv.past + r.T;
  s.H = c.n_head;
  s.Hkv = c.n_head_kv;
  s.hd = c.head_dim;
  s.kv_rows = r.kv.kv_rows;
  s.scale = c.attn_scale;
  s.alibi_slopes = r.model->alibi_slopes.empty() ? nullptr : r.model->alibi_slopes.data();
  s.window = c.window_of(r.layer);
  s.softcap = c.attn_softcap;
  s.key_pad = r.kv.key_pad;
  s.pad_at = r.kv.pad_at;
  s.causal = c.causal;
  s.key_len = r.kv.key_len;
  s.row_k = r.kv.row_k;
  s.row_v = r.kv.row_v;
  s.row_past = r.kv.row_past;
  return s;
}

// The q (or k) norm's rows: each head of each token, or each token's whole projection.
struct QkRows {
  int64_t rows, width;
};
QkRows qk_rows(const ModelConfig& c, int64_t N, int64_t heads) {
  if (c.block.qk_norm == QkNorm::PerHead) return {N * heads, c.head_dim};
  return {N, heads * c.head_dim};
}

DisentangledShape disentangled_shape(const BlockRun& r) {
  const ModelConfig& c = r.model->config;
  PEFT_CHECK(r.kv.past == 0 && !r.kv.row_past, "disentangled attention takes no cached or prefix keys");
  DisentangledShape s;
  s.B = r.B;
  s.T = r.T;
  s.H = c.n_head;
  s.hd = c.head_dim;
  s.span = c.rel.span;
  s.buckets = c.rel.buckets;
  s.max_position = c.rel.max_position;
  s.c2p = c.rel.c2p && c.rel.span > 0;
  s.p2c = c.rel.p2c && c.rel.span > 0;
  s.scale = c.attn_scale;
  s.key_len = r.kv.key_len;
  return s;
}

// DeBERTa: the rows [xn (N) ; relative embeddings (R)] go through the query and key
// projections as one batch, so the adapters there see the relative embeddings as PEFT's
// wrapped query_proj/key_proj do; rows N.. of q and k are the position queries/keys.
void disentangled_part_forward(const BlockRun& r, LayerActs& a, const float* xn, float* out) {
  const ModelConfig& c = r.model->config;
  const LayerWeights& w = r.model->layers[size_t(r.layer)];
  const int64_t N = r.B * r.T, R = c.rel.rows(), C = c.n_embd;
  const float* x_qk = xn;
  if (R > 0) {
    std::memcpy(fptr(a.attn_x), xn, size_t(N * C) * sizeof(float));
    std::memcpy(fptr(a.attn_x) + N * C, r.model->rel_pos.f32(), size_t(R * C) * sizeof(float));
    x_qk = fptr(a.attn_x);
  }
  project(r, Site::AttnQ, w.q, x_qk, fptr(a.q), N + R);
  project(r, Site::AttnK, w.k, x_qk, fptr(a.k), N + R);
  project(r, Site::AttnV, w.v, xn, fptr(a.v), N);
  disentangled_attention_forward(fptr(a.att), a.lse.data ? fptr(a.lse) : nullptr, fptr(a.q), fptr(a.k), fptr(a.v),
                                 fptr(a.q) + N * c.q_dim(), fptr(a.k) + N * c.kv_dim(), disentangled_shape(r));
  project(r, Site::AttnO, w.o, fptr(a.att), out, N);
}

void disentangled_part_backward(const BlockRun& r, const LayerActs& a, BlockGrads& g, const float* xn,
                                const float* d_out, float* d_xn) {
  const ModelConfig& c = r.model->config;
  const LayerWeights& w = r.model->layers[size_t(r.layer)];
  const int64_t N = r.B * r.T, R = c.rel.rows(), C = c.n_embd;
  zero(g.d_att);
  project_backward(r, Site::AttnO, w.o, fptr(a.att), d_out, fptr(g.d_att), N, fptr(g.d_lin_in));
  zero(g.d_q);
  zero(g.d_k);
  zero(g.d_v);
  disentangled_attention_backward(fptr(g.d_q), fptr(g.d_k), fptr(g.d_v), fptr(g.d_q) + N * c.q_dim(),
                                  fptr(g.d_k) + N * c.kv_dim(), fptr(g.d_att), fptr(a.q), fptr(a.k), fptr(a.v),
                                  fptr(a.q) + N * c.q_dim(), fptr(a.k) + N * c.kv_dim(), fptr(a.lse),
                                  disentangled_shape(r));
  project_backward(r, Site::AttnV, w.v, xn, fptr(g.d_v), d_xn, N, fptr(g.d_lin_in));
  if (R == 0) {
    project_backward(r, Site::AttnQ, w.q, xn, fptr(g.d_q), d_xn, N, fptr(g.d_lin_in));
    project_backward(r, Site::AttnK, w.k, xn, fptr(g.d_k), d_xn, N, fptr(g.d_lin_in));
    return;
  }
  // The relative embeddings are frozen: their rows' input gradient is dropped.
  zero(g.d_attn_x);
  project_backward(r, Site::AttnQ, w.q, fptr(a.attn_x), fptr(g.d_q), fptr(g.d_attn_x), N + R, fptr(g.d_lin_in));
  project_backward(r, Site::AttnK, w.k, fptr(a.attn_x), fptr(g.d_k), fptr(g.d_attn_x), N + R, fptr(g.d_lin_in));
  add_into(d_xn, fptr(g.d_attn_x), N * C);
}

// out (N, C) = o_proj(attention(xn)).
void attention_part_forward(const BlockRun& r, LayerActs& a, const float* xn, float* out) {
  const ModelConfig& c = r.model->config;
  const LayerWeights& w = r.model->layers[size_t(r.layer)];
  const int64_t N = r.B * r.T, kvd = c.kv_dim();
  if (c.rel.on) {
    disentangled_part_forward(r, a, xn, out);
    return;
  }
  if (c.block.qkv == QkvLayout::Separate) {
    // With q/k norms the projections land in q_raw/k_raw and are normalised into q/k: per head,
    // (N·H, hd) rows of one RMSNorm, or whole, (N, H·hd) rows.
    const bool qk_norm = c.block.qk_norm != QkNorm::None;
    project(r, Site::AttnQ, w.q, xn, qk_norm ? fptr(a.q_raw) : fptr(a.q), N);
    project(r, Site::AttnK, w.k, xn, qk_norm ? fptr(a.k_raw) : fptr(a.k), N);
    project(r, Site::AttnV, w.v, xn, fptr(a.v), N);
    if (qk_norm) {
      const QkRows q = qk_rows(c, N, c.n_head), k = qk_rows(c, N, c.n_head_kv);
      rmsnorm_forward(fptr(a.q), fptr(a.q_rstd), fptr(a.q_raw), w.q_norm.w.f32(), q.rows, q.width, c.norm_eps);
      rmsnorm_forward(fptr(a.k), fptr(a.k_rstd), fptr(a.k_raw), w.k_norm.w.f32(), k.rows, k.width, c.norm_eps);
    }
  } else {
    project(r, Site::AttnQKV, w.qkv, xn, fptr(a.qkv), N);
    fused_copy(c, fptr(a.qkv), fptr(a.q), fptr(a.k), fptr(a.v), N, false);
  }
  if (c.uses_rope(r.layer)) {
    rope_forward(fptr(a.q), r.positions, N, c.n_head, c.head_dim, c.rope_of(r.layer));
    rope_forward(fptr(a.k), r.positions, N, c.n_head_kv, c.head_dim, c.rope_of(r.layer));
  }
  if (r.kv.row_past) {  // ragged inference: each row appends to its own cache
    for (int64_t b = 0; b < r.B; ++b)
      for (int64_t t = 0; t < r.T; ++t) {
        const int64_t dst = (r.kv.row_past[b] + t) * kvd, src = (b * r.T + t) * kvd;
        std::memcpy(r.kv.row_k[b] + dst, fptr(a.k) + src, size_t(kvd) * sizeof(float));
        std::memcpy(r.kv.row_v[b] + dst, fptr(a.v) + src, size_t(kvd) * sizeof(float));
      }
  } else if (r.kv.k != a.k.data) {  // inference: append this call's keys/values to the cache
    for (int64_t b = 0; b < r.B; ++b)
      for (int64_t t = 0; t < r.T; ++t) {
        const int64_t dst = (b * r.kv.kv_rows + r.kv.past + t) * kvd, src = (b * r.T + t) * kvd;
        std::memcpy(r.kv.k + dst, fptr(a.k) + src, size_t(kvd) * sizeof(float));
        std::memcpy(r.kv.v + dst, fptr(a.v) + src, size_t(kvd) * sizeof(float));
      }
  }
  // Training keeps each row's log-sum-exp instead of the (T × Tk) probabilities.
  if (a.lse.data)
    flash_attention_forward(fptr(a.att), fptr(a.lse), fptr(a.q), r.kv.k, r.kv.v, attention_shape(r));
  else
    attention_forward(fptr(a.att), nullptr, fptr(a.q), r.kv.k, r.kv.v, attention_shape(r));
  project(r, Site::AttnO, w.o, fptr(a.att), out, N);
}

// d_xn (N, C) += ∂L/∂xn given d_out (N, C) = ∂L/∂(attention part output).
void attention_part_backward(const BlockRun& r, const LayerActs& a, BlockGrads& g, const float* xn, const float* d_out,
                             float* d_xn) {
  const ModelConfig& c = r.model->config;
  if (c.rel.on) {
    disentangled_part_backward(r, a, g, xn, d_out, d_xn);
    return;
  }
  const LayerWeights& w = r.model->layers[size_t(r.layer)];
  const int64_t N = r.B * r.T;
  zero(g.d_att);
  project_backward(r, Site::AttnO, w.o, fptr(a.att), d_out, fptr(g.d_att), N, fptr(g.d_lin_in));
  zero(g.d_q);
  zero(g.d_k);
  zero(g.d_v);
  // Keys/values live in the layer's activations, or (prefix tuning) in a separate buffer
  // whose first `past` rows of each batch item are the prefix.
  flash_attention_backward(fptr(g.d_q), fptr(g.d_k), fptr(g.d_v), fptr(g.d_att), fptr(a.q), r.kv.k, r.kv.v, fptr(a.lse),
                           attention_shape(r));
  if (r.kv.k != a.k.data) {
    const int64_t kvd = c.kv_dim(), rows = r.kv.kv_rows, past = r.kv.past;
    if (r.hooks && past > 0) r.hooks->prefix_kv_backward(r.layer, fptr(g.d_k), fptr(g.d_v), r.B, rows);
    // Compact the real tokens' rows to (N, kv_dim) for the projections' backward; every
    // destination row precedes its source, so increasing order is safe.
    for (int64_t b = 0; b < r.B; ++b)
      for (int64_t t = 0; t < r.T; ++t) {
        std::memmove(fptr(g.d_k) + (b * r.T + t) * kvd, fptr(g.d_k) + (b * rows + past + t) * kvd,
                     size_t(kvd) * sizeof(float));
        std::memmove(fptr(g.d_v) + (b * r.T + t) * kvd, fptr(g.d_v) + (b * rows + past + t) * kvd,
                     size_t(kvd) * sizeof(float));
      }
  }
  if (c.uses_rope(r.layer)) {
    rope_backward(fptr(g.d_q), r.positions, N, c.n_head, c.head_dim, c.rope_of(r.layer));
    rope_backward(fptr(g.d_k), r.positions, N, c.n_head_kv, c.head_dim, c.rope_of(r.layer));
  }
  if (c.block.qkv == QkvLayout::Separate) {
    float* d_q = fptr(g.d_q);
    float* d_k = fptr(g.d_k);
    if (c.block.qk_norm != QkNorm::None) {  // through the q/k norms (base weights: no dw)
      const QkRows q = qk_rows(c, N, c.n_head), k = qk_rows(c, N, c.n_head_kv);
      zero(g.d_q_raw);
      zero(g.d_k_raw);
      rmsnorm_backward(fptr(g.d_q_raw), nullptr, d_q, fptr(a.q_raw), w.q_norm.w.f32(), fptr(a.q_rstd), q.rows, q.width);
      rmsnorm_backward(fptr(g.d_k_raw), nullptr, d_k, fptr(a.k_raw), w.k_norm.w.f32(), fptr(a.k_rstd), k.rows, k.width);
      d_q = fptr(g.d_q_raw);
      d_k = fptr(g.d_k_raw);
    }
    project_backward(r, Site::AttnQ, w.q, xn, d_q, d_xn, N, fptr(g.d_lin_in));
    project_backward(r, Site::AttnK, w.k, xn, d_k, d_xn, N, fptr(g.d_lin_in));
    project_backward(r, Site::AttnV, w.v, xn, fptr(g.d_v), d_xn, N, fptr(g.d_lin_in));
  } else {
    fused_copy(c, fptr(g.d_qkv), fptr(g.d_q), fptr(g.d_k), fptr(g.d_v), N, true);
    project_backward(r, Site::AttnQKV, w.qkv, xn, fptr(g.d_qkv), d_xn, N, fptr(g.d_lin_in));
  }
}

// Rows of a fused (N, 2F) [gate | up] output and the separate (N, F) gate and up; to_fused=false
// splits.
void gate_up_copy(float* fused, float* gate, float* up, int64_t N, int64_t F, bool to_fused) {
#pragma omp parallel for
  for (int64_t n = 0; n < N; ++n) {
    float* row = fused + n * 2 * F;
    if (to_fused) {
      std::memcpy(row, gate + n * F, size_t(F) * sizeof(float));
      std::memcpy(row + F, up + n * F, size_t(F) * sizeof(float));
    } else {
      std::memcpy(gate + n * F, row, size_t(F) * sizeof(float));
      std::memcpy(up + n * F, row + F, size_t(F) * sizeof(float));
    }
  }
}

// out (N, C) = down(act(gate xn) ⊙ up xn)  or  down(act(up xn)).
void mlp_forward(const BlockRun& r, LayerActs& a, const float* xn, float* out) {
  const ModelConfig& c = r.model->config;
  const LayerWeights& w = r.model->layers[size_t(r.layer)];
  const int64_t N = r.B * r.T, NF = N * c.n_ff;
  if (c.block.fused_gate_up) {  // one projection, [gate | up] per row
    project(r, Site::FfnUp, w.up, xn, fptr(a.ff_gate_up), N);
    gate_up_copy(fptr(a.ff_gate_up), fptr(a.ff_gate), fptr(a.ff_up), N, c.n_ff, false);
    gated_forward(c.block.act, fptr(a.ff_h), fptr(a.ff_gate), fptr(a.ff_up), NF);
    project(r, Site::FfnDown, w.down, fptr(a.ff_h), out, N);
    return;
  }
  project(r, Site::FfnUp, w.up, xn, fptr(a.ff_up), N);
  if (c.block.gated_mlp) {
    project(r, Site::FfnGate, w.gate, xn, fptr(a.ff_gate), N);
    gated_forward(c.block.act, fptr(a.ff_h), fptr(a.ff_gate), fptr(a.ff_up), NF);
  } else {
    activation_forward(c.block.act, fptr(a.ff_h), fptr(a.ff_up), NF);
  }
  project(r, Site::FfnDown, w.down, fptr(a.ff_h), out, N);
}

void mlp_backward(const BlockRun& r, const LayerActs& a, BlockGrads& g, const float* xn, const float* d_out,
                  float* d_xn) {
  const ModelConfig& c = r.model->config;
  const LayerWeights& w = r.model->layers[size_t(r.layer)];
  const int64_t N = r.B * r.T, NF = N * c.n_ff;
  zero(g.d_ff_h);
  project_backward(r, Site::FfnDown, w.down, fptr(a.ff_h), d_out, fptr(g.d_ff_h), N, fptr(g.d_lin_in));
  zero(g.d_ff_up);
  if (c.block.fused_gate_up) {
    zero(g.d_ff_gate);
    gated_backward(c.block.act, fptr(g.d_ff_gate), fptr(g.d_ff_up), fptr(g.d_ff_h), fptr(a.ff_gate), fptr(a.ff_up), NF);
    gate_up_copy(fptr(g.d_ff_gate_up), fptr(g.d_ff_gate), fptr(g.d_ff_up), N, c.n_ff, true);
    project_backward(r, Site::FfnUp, w.up, xn, fptr(g.d_ff_gate_up), d_xn, N, fptr(g.d_lin_in));
    return;
  }
  if (c.block.gated_mlp) {
    zero(g.d_ff_gate);
    gated_backward(c.block.act, fptr(g.d_ff_gate), fptr(g.d_ff_up), fptr(g.d_ff_h), fptr(a.ff_gate), fptr(a.ff_up), NF);
    project_backward(r, Site::FfnGate, w.gate, xn, fptr(g.d_ff_gate), d_xn, N, fptr(g.d_lin_in));
  } else {
    activation_backward(c.block.act, fptr(g.d_ff_up), fptr(g.d_ff_h), fptr(a.ff_up), NF);
  }
  project_backward(r, Site::FfnUp, w.up, xn, fptr(g.d_ff_up), d_xn, N, fptr(g.d_lin_in));
}

}  // namespace

void block_forward(const BlockRun& r, LayerActs& a, float* x_out) {
  const ModelConfig& c = r.model->config;
  const LayerWeights& w = r.model->layers[size_t(r.layer)];
  const int64_t N = r.B * r.T, NC = N * c.n_embd;
  const float* x = fptr(a.x_in);
  if (c.block.post_norm) {
    // x_mid = x + attn(x); n1 = norm1(x_mid); n2 = n1 + mlp(n1) (pre-norm sum); out = norm2(n2)
    attention_part_forward(r, a, x, fptr(a.x_mid));
    add_into(fptr(a.x_mid), x, NC);
    norm_forward(c, w.attn_norm, fptr(a.n1), fptr(a.n1_mean), fptr(a.n1_rstd), fptr(a.x_mid), N);
    mlp_forward(r, a, fptr(a.n1), fptr(a.n2));
    add_into(fptr(a.n2), fptr(a.n1), NC);
    norm_forward(c, w.ffn_norm, x_out, fptr(a.n2_mean), fptr(a.n2_rstd), fptr(a.n2), N);
    return;
  }
  if (!c.block.parallel_residual) {
    // x_mid = x + out1(attn(in1 x));  out = x_mid + out2(mlp(in2 x_mid)), each norm optional
    // (BlockSpec::input_norms / output_norms). n1, n2 hold the input norms' outputs; attn_y,
    // ffn_y the sublayer outputs before their output norms.
    const bool in = c.block.input_norms, out = c.block.output_norms;
    if (in) norm_forward(c, w.attn_norm, fptr(a.n1), fptr(a.n1_mean), fptr(a.n1_rstd), x, N);
    attention_part_forward(r, a, in ? fptr(a.n1) : x, out ? fptr(a.attn_y) : fptr(a.x_mid));
    if (out)
      norm_forward(c, w.attn_out_norm, fptr(a.x_mid), fptr(a.attn_y_mean), fptr(a.attn_y_rstd), fptr(a.attn_y), N);
    add_into(fptr(a.x_mid), x, NC);
    if (in) norm_forward(c, w.ffn_norm, fptr(a.n2), fptr(a.n2_mean), fptr(a.n2_rstd), fptr(a.x_mid), N);
    mlp_forward(r, a, in ? fptr(a.n2) : fptr(a.x_mid), out ? fptr(a.ffn_y) : x_out);
    if (out) norm_forward(c, w.ffn_out_norm, x_out, fptr(a.ffn_y_mean), fptr(a.ffn_y_rstd), fptr(a.ffn_y), N);
    add_into(x_out, fptr(a.x_mid), NC);
    return;
  }
  norm_forward(c, w.attn_norm, fptr(a.n1), fptr(a.n1_mean), fptr(a.n1_rstd), x, N);
  const float* xn2 = fptr(a.n1);
  if (!c.block.shared_block_norm) {
    norm_forward(c, w.ffn_norm, fptr(a.n2), fptr(a.n2_mean), fptr(a.n2_rstd), x, N);
    xn2 = fptr(a.n2);
  }
  attention_part_forward(r, a, fptr(a.n1), fptr(a.x_mid));  // x_mid holds attn(n1 x)
  mlp_forward(r, a, xn2, x_out);
  add_into(x_out, fptr(a.x_mid), NC);
  add_into(x_out, x, NC);
}

void block_backward(const BlockRun& r, const LayerActs& a, BlockGrads& g, const float* d_x_out, float* d_x_in) {
  const ModelConfig& c = r.model->config;
  const LayerWeights& w = r.model->layers[size_t(r.layer)];
  const int64_t N = r.B * r.T, NC = N * c.n_embd;
  const float* x = fptr(a.x_in);
  if (c.block.post_norm) {
    // out = norm2(n2), n2 = n1 + mlp(n1):  ∂n2 = norm2ᵀ ∂out;  ∂n1 = ∂n2 + mlpᵀ ∂n2
    zero(g.d_n2);
    norm_backward(c, w.ffn_norm, fptr(g.d_n2), d_x_out, fptr(a.n2), fptr(a.n2_mean), fptr(a.n2_rstd), N);
    std::memcpy(g.d_n1.data, g.d_n2.data, size_t(NC) * sizeof(float));
    mlp_backward(r, a, g, fptr(a.n1), fptr(g.d_n2), fptr(g.d_n1));
    // n1 = norm1(x_mid), x_mid = x + attn(x)
    zero(g.d_x_mid);
    norm_backward(c, w.attn_norm, fptr(g.d_x_mid), fptr(g.d_n1), fptr(a.x_mid), fptr(a.n1_mean), fptr(a.n1_rstd), N);
    std::memcpy(d_x_in, g.d_x_mid.data, size_t(NC) * sizeof(float));
    attention_part_backward(r, a, g, x, fptr(g.d_x_mid), d_x_in);
    return;
  }
  if (!c.block.parallel_residual) {
    // out = x_mid + out2(m), m = mlp(in2 x_mid):  ∂m = out2ᵀ ∂out;  ∂x_mid = ∂out + in2ᵀ mlpᵀ ∂m
    const bool in = c.block.input_norms, out = c.block.output_norms;
    float* d_mid = fptr(g.d_x_mid);
    std::memcpy(d_mid, d_x_out, size_t(NC) * sizeof(float));
    const float* d_m = d_x_out;
    if (out) {
      zero(g.d_sub);
      norm_backward(c, w.ffn_out_norm, fptr(g.d_sub), d_x_out, fptr(a.ffn_y), fptr(a.ffn_y_mean), fptr(a.ffn_y_rstd),
                    N);
      d_m = fptr(g.d_sub);
    }
    if (in) {
      zero(g.d_n2);
      mlp_backward(r, a, g, fptr(a.n2), d_m, fptr(g.d_n2));
      norm_backward(c, w.ffn_norm, d_mid, fptr(g.d_n2), fptr(a.x_mid), fptr(a.n2_mean), fptr(a.n2_rstd), N);
    } else {
      mlp_backward(r, a, g, fptr(a.x_mid), d_m, d_mid);
    }
    // x_mid = x + out1(s), s = attn(in1 x):  ∂s = out1ᵀ ∂x_mid;  ∂x = ∂x_mid + in1ᵀ attnᵀ ∂s
    std::memcpy(d_x_in, d_mid, size_t(NC) * sizeof(float));
    const float* d_s = d_mid;
    if (out) {
      zero(g.d_sub);
      norm_backward(c, w.attn_out_norm, fptr(g.d_sub), d_mid, fptr(a.attn_y), fptr(a.attn_y_mean), fptr(a.attn_y_rstd),
                    N);
      d_s = fptr(g.d_sub);
    }
    if (in) {
      zero(g.d_n1);
      attention_part_backward(r, a, g, fptr(a.n1), d_s, fptr(g.d_n1));
      norm_backward(c, w.attn_norm, d_x_in, fptr(g.d_n1), x, fptr(a.n1_mean), fptr(a.n1_rstd), N);
    } else {
      attention_part_backward(r, a, g, x, d_s, d_x_in);
    }
    return;
  }
  // x_out = x + attn(n1 x) + mlp(n2 x): both branches see ∂x_out.
  std::memcpy(d_x_in, d_x_out, size_t(NC) * sizeof(float));
  zero(g.d_n1);
  attention_part_backward(r, a, g, fptr(a.n1), d_x_out, fptr(g.d_n1));
  if (c.block.shared_block_norm) {
    mlp_backward(r, a, g, fptr(a.n1), d_x_out, fptr(g.d_n1));
  } else {
    zero(g.d_n2);
    mlp_backward(r, a, g, fptr(a.n2), d_x_out, fptr(g.d_n2));
    norm_backward(c, w.ffn_norm, d_x_in, fptr(g.d_n2), x, fptr(a.n2_mean), fptr(a.n2_rstd), N);
  }
  norm_backward(c, w.attn_norm, d_x_in, fptr(g.d_n1), x, fptr(a.n1_mean), fptr(a.n1_rstd), N);
}

}  // namespace peft
