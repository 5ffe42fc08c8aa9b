// AdamW update, elementwise.
#include "kernels/adamw.h"

#include <cmath>

namespace peft {

void adamw_step(float* p, const float* g, float* m, float* v, int64_t n, int64_t t, const AdamWHyper& h) {
  // Scalars as PyTorch computes them: Python doubles, then used as float in tensor ops.
  const double bc1 = 1.0 - std::pow(double(h.beta1), double(t));
  const double bc2 = 1.0 - std::pow(double(h.beta2), double(t));
  const float step_size = float(double(h.lr) / bc1);
  const float bc2_sqrt = float(std::sqrt(bc2));
  const float decay = float(1.0 - double(h.lr) * double(h.weight_decay));
  const float b1 = h.beta1, b2 = h.beta2, one_b1 = float(1.0 - double(h.beta1)), one_b2 = float(1.0 - double(h.beta2));
#pragma omp parallel for simd
  for (int64_t i = 0; i < n; ++i) {
    float pi = p[i];
    if (h.weight_decay != 0.f) pi *= decay;
    const float mi = m[i] * b1 + g[i] * one_b1;
    const float vi = v[i] * b2 + g[i] * g[i] * one_b2;
    m[i] = mi;
    v[i] = vi;
    const float denom = std::sqrt(vi) / bc2_sqrt + h.eps;
    p[i] = pi - step_size * (mi / denom);
  }
}

}  // namespace peft
