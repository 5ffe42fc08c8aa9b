// LayerNorm and RMSNorm over the last dimension: forward saves statistics, backward accumulates.
#pragma once
#include <cstdint>

namespace peft {

// out (N, C) = (x - mean) · rstd · w + b;  saves mean (N), rstd (N).  w, b (C); b may be null.
void layernorm_forward(float* out, float* mean, float* rstd, const float* x, const float* w, const float* b, int64_t N,
                       int64_t C, float eps);
// dx (N, C) += ∂L/∂x;  dw, db (C) += (each may be null).
void layernorm_backward(float* dx, float* dw, float* db, const float* dout, const float* x, const float* w,
                        const float* mean, const float* rstd, int64_t N, int64_t C);

// out (N, C) = x · rstd · w, rstd = 1/√(mean(x²) + eps);  saves rstd (N).
void rmsnorm_forward(float* out, float* rstd, const float* x, const float* w, int64_t N, int64_t C, float eps);
// dx (N, C) += ∂L/∂x;  dw (C) += (may be null).
void rmsnorm_backward(float* dx, float* dw, const float* dout, const float* x, const float* w, const float* rstd,
                      int64_t N, int64_t C);

}  // namespace peft
