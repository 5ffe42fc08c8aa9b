// Embedding lookup, final norm and LM head shared by training and inference.
#include "model/embed.h"

#include "kernels/embedding.h"
#include "kernels/matmul.h"
#include "kernels/norms.h"

namespace peft {

void embed_forward(const Model& m, const int32_t* ids, const int32_t* positions, int64_t N,
                   float* x) {
  const ModelConfig& c = m.config;
  embedding_forward(x, ids, m.tok_embd, N);
  if (c.block.position == PositionKind::Learned) {
    const int64_t C = c.n_embd, offset = c.block.learned_pos_offset;
    const float* table = m.pos_embd.f32();  // (P, C), always F32
#pragma omp parallel for
    for (int64_t n = 0; n < N; ++n) {
      const float* row = table + (positions[n] + offset) * C;
      for (int64_t i = 0; i < C; ++i) x[n * C + i] += row[i];
    }
  }
}

void final_norm_forward(const Model& m, float* out, float* mean, float* rstd, const float* x,
                        int64_t N) {
  const ModelConfig& c = m.config;
  if (c.block.norm == NormKind::RmsNorm)
    rmsnorm_forward(out, rstd, x, m.out_norm.w.f32(), N, c.n_embd, c.norm_eps);
  else
    layernorm_forward(out, mean, rstd, x, m.out_norm.w.f32(),
                      m.out_norm.b.data ? m.out_norm.b.f32() : nullptr, N, c.n_embd, c.norm_eps);
}

void final_norm_backward(const Model& m, float* dx, const float* dout, const float* x,
                         const float* mean, const float* rstd, int64_t N) {
  const ModelConfig& c = m.config;
  if (c.block.norm == NormKind::RmsNorm)
    rmsnorm_backward(dx, nullptr, dout, x, m.out_norm.w.f32(), rstd, N, c.n_embd);
  else
    layernorm_backward(dx, nullptr, nullptr, dout, x, m.out_norm.w.f32(), mean, rstd, N, c.n_embd);
}

void lm_head_forward(const Model& m, float* logits, const float* h, int64_t N) {
  linear_forward(logits, h, m.lm_head.w, m.lm_head.has_bias() ? m.lm_head.b.f32() : nullptr, N);
}

}  // namespace peft
