// Embedding and head stages shared by training and inference.
#include "model/ends.h"

#include <cstring>

#include "kernels/cross_entropy.h"
#include "kernels/embedding.h"
#include "kernels/matmul.h"
#include "kernels/norms.h"
#include "model/block.h"

namespace peft {

namespace {
float* fptr(const Tensor& t) { return static_cast<float*>(t.data); }
const float* bias_or_null(const Tensor& b) { return b.data ? static_cast<const float*>(b.data) : nullptr; }

void layernorm_or_rms(const ModelConfig& c, const Norm& n, float* out, float* mean, float* rstd, const float* x,
                      int64_t N, bool rms) {
  if (rms)
    rmsnorm_forward(out, rstd, x, n.w.f32(), N, c.n_embd, c.norm_eps);
  else
    layernorm_forward(out, mean, rstd, x, n.w.f32(), bias_or_null(n.b), N, c.n_embd, c.norm_eps);
}
void layernorm_or_rms_backward(const ModelConfig& c, const Norm& n, float* dx, const float* dout, const float* x,
                               const float* mean, const float* rstd, int64_t N, bool rms) {
  if (rms)
    rmsnorm_backward(dx, nullptr, dout, x, n.w.f32(), rstd, N, c.n_embd);
  else
    layernorm_backward(dx, nullptr, nullptr, dout, x, n.w.f32(), mean, rstd, N, c.n_embd);
}
}  // namespace

template <typename Alloc>
EmbedActs alloc_embed_acts(Alloc& arena, const ModelConfig& c, int64_t N) {
  EmbedActs a;
  a.raw = arena.alloc_f32({N, c.embd_in()});
  a.pre = arena.alloc_f32({N, c.n_embd});
  a.mean = arena.alloc_f32({N});
  a.rstd = arena.alloc_f32({N});
  return a;
}

template <typename Alloc>
HeadActs alloc_head_acts(Alloc& arena, const ModelConfig& c, int64_t N, bool training) {
  HeadActs a;
  a.h = arena.alloc_f32({N, c.n_embd});
  a.mean = arena.alloc_f32({N});
  a.rstd = arena.alloc_f32({N});
  if (c.n_embd_in) a.out = arena.alloc_f32({N, c.n_embd_in});
  if (training) a.d_h = arena.alloc_f32({N, c.n_embd});
  return a;
}

namespace {
// rows (n, Ce) of table lookups times the embedding scale, where only lookups are scaled.
void scale_lookups(const ModelConfig& c, float* rows, int64_t n) {
  if (c.embd_scale == 0.f || !c.embd_scale_tokens_only) return;
  const int64_t count = n * c.embd_in();
  const float s = c.embd_scale;
#pragma omp parallel for simd
  for (int64_t i = 0; i < count; ++i) rows[i] *= s;
}
}  // namespace

void embed_tokens(const Model& m, SiteHooks* hooks, const int32_t* ids, int64_t B, int64_t T_in, int64_t nv,
                  const TokenInputs& inputs, float* virtual_buf, float* raw, int32_t* modality_out) {
  const int64_t Ce = m.config.embd_in(), T = T_in + nv;
  if (nv > 0) hooks->virtual_embeddings(virtual_buf);
  for (int64_t b = 0; b < B; ++b) {
    if (nv > 0) std::memcpy(raw + b * T * Ce, virtual_buf, size_t(nv * Ce) * sizeof(float));
    embedding_forward(raw + (b * T + nv) * Ce, ids + b * T_in, m.tok_embd, T_in);
    scale_lookups(m.config, raw + (b * T + nv) * Ce, T_in);
  }
  PEFT_CHECK(!inputs.embeddings == !inputs.use_embedding, "TokenInputs: embeddings and use_embedding go together");
  if (inputs.embeddings) {  // caller-supplied vectors replace table rows
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T_in; ++t)
        if (inputs.use_embedding[b * T_in + t])
          std::memcpy(raw + (b * T + nv + t) * Ce, inputs.embeddings + (b * T_in + t) * Ce, size_t(Ce) * sizeof(float));
  }
  if (hooks && hooks->has_embed_hook()) {
    const int32_t* modality = inputs.modality;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t p = 0; p < T; ++p) modality_out[b * T + p] = p < nv || !modality ? 0 : modality[b * T_in + p - nv];
    hooks->embed_forward(raw, modality_out, B * T);
  }
}

void embed_forward(const Model& m, const int32_t* ids, const int32_t* positions, int64_t N, EmbedActs& a, float* x0) {
  embedding_forward(fptr(a.raw), ids, m.tok_embd, N);
  scale_lookups(m.config, fptr(a.raw), N);
  embed_inputs_forward(m, positions, N, a, x0);
}

void embed_inputs_forward(const Model& m, const int32_t* positions, int64_t N, EmbedActs& a, float* x0,
                          const int32_t* token_types) {
  const ModelConfig& c = m.config;
  const int64_t C = c.n_embd;
  float* pre = c.embd_norm ? fptr(a.pre) : x0;
  if (c.n_embd_in)
    linear_forward(pre, fptr(a.raw), m.project_in.w, nullptr, N);
  else
    std::memcpy(pre, a.raw.data, size_t(N * C) * sizeof(float));
  if (c.embd_scale != 0.f && !c.embd_scale_tokens_only) {  // Gemma 1/2: every input vector times √C
    const float s = c.embd_scale;
#pragma omp parallel for simd
    for (int64_t i = 0; i < N * C; ++i) pre[i] *= s;
  }
  if (c.block.position == PositionKind::Learned) {
    const int64_t offset = c.block.learned_pos_offset;
    const float* table = m.pos_embd.f32();  // (P, C), always F32
#pragma omp parallel for
    for (int64_t n = 0; n < N; ++n) {
      const float* row = table + (positions[n] + offset) * C;
      for (int64_t i = 0; i < C; ++i) pre[n * C + i] += row[i];
    }
  }
  if (c.n_token_types > 0) {                 // BERT's segment embedding, added like the positions
    const float* table = m.type_embd.f32();  // (n_token_types, C)
#pragma omp parallel for
    for (int64_t n = 0; n < N; ++n) {
      const float* row = table + (token_types ? token_types[n] : 0) * C;
      for (int64_t i = 0; i < C; ++i) pre[n * C + i] += row[i];
    }
  }
  if (c.embd_norm)
    layernorm_or_rms(c, m.embd_norm, x0, fptr(a.mean), fptr(a.rstd), pre, N, c.block.norm == NormKind::RmsNorm);
}

void embed_backward(const Model& m, const EmbedActs& a, const float* d_x0, float* d_pre, float* d_raw, int64_t N) {
  const ModelConfig& c = m.config;
  const int64_t C = c.n_embd;
  const float* dp = d_x0;
  if (c.embd_norm) {
    std::memset(d_pre, 0, size_t(N * C) * sizeof(float));
    layernorm_or_rms_backward(c, m.embd_norm, d_pre, d_x0, fptr(a.pre), fptr(a.mean), fptr(a.rstd), N,
                              c.block.norm == NormKind::RmsNorm);
    dp = d_pre;
  }
  // Positions are added, so they pass the gradient through unchanged.
  if (c.n_embd_in) {
    std::memset(d_raw, 0, size_t(N * c.n_embd_in) * sizeof(float));
    linear_backward_input(d_raw, dp, m.project_in.w, N);
  } else if (d_raw != dp) {
    std::memcpy(d_raw, dp, size_t(N * C) * sizeof(float));
  }
  if (c.embd_scale != 0.f && !c.embd_scale_tokens_only) {  // pre = s · (raw or project_in raw): linear in raw
    const float s = c.embd_scale;
    const int64_t n = N * c.embd_in();
#pragma omp parallel for simd
    for (int64_t i = 0; i < n; ++i) d_raw[i] *= s;
  }
}

const float* head_forward(const Model& m, const float* x, int64_t N, HeadActs& a) {
  const ModelConfig& c = m.config;
  const float* h = x;
  if (c.final_norm) {
    layernorm_or_rms(c, m.out_norm, fptr(a.h), fptr(a.mean), fptr(a.rstd), x, N, c.block.norm == NormKind::RmsNorm);
    h = fptr(a.h);
  }
  if (!c.n_embd_in) return h;
  linear_forward(fptr(a.out), h, m.project_out.w, nullptr, N);
  return fptr(a.out);
}

void head_backward(const Model& m, HeadActs& a, const float* x, const float* d_in, float* d_x, int64_t N) {
  const ModelConfig& c = m.config;
  const int64_t C = c.n_embd;
  const float* d_h = d_in;
  if (c.n_embd_in) {
    std::memset(a.d_h.data, 0, size_t(N * C) * sizeof(float));
    linear_backward_input(fptr(a.d_h), d_in, m.project_out.w, N);
    d_h = fptr(a.d_h);
  }
  if (c.final_norm) {
    layernorm_or_rms_backward(c, m.out_norm, d_x, d_h, x, fptr(a.mean), fptr(a.rstd), N,
                              c.block.norm == NormKind::RmsNorm);
  } else {
#pragma omp parallel for simd
    for (int64_t i = 0; i < N * C; ++i) d_x[i] += d_h[i];
  }
}

void lm_head_forward(const Model& m, float* logits, const float* in, int64_t N) {
  linear_forward(logits, in, m.lm_head.w, m.lm_head.has_bias() ? m.lm_head.b.f32() : nullptr, N);
  if (m.config.logit_softcap > 0.f) softcap_forward(logits, nullptr, N * m.lm_head.out(), m.config.logit_softcap);
}

template EmbedActs alloc_embed_acts<Arena>(Arena&, const ModelConfig&, int64_t);
template EmbedActs alloc_embed_acts<SizingArena>(SizingArena&, const ModelConfig&, int64_t);
template HeadActs alloc_head_acts<Arena>(Arena&, const ModelConfig&, int64_t, bool);
template HeadActs alloc_head_acts<SizingArena>(SizingArena&, const ModelConfig&, int64_t, bool);

}  // namespace peft
