// AdamW state and gradient utilities.
#include "train/optimizer.h"

#include <cmath>

namespace peft {

AdamW::AdamW(ParamStore& params, const AdamWHyper& hyper)
    : params_(params), hyper_(hyper), m_(size_t(params.numel()), 0.f), v_(size_t(params.numel()), 0.f) {}

void AdamW::step(float lr) {
  AdamWHyper h = hyper_;
  h.lr = lr;
  ++t_;
  adamw_step(params_.values(), params_.grads(), m_.data(), v_.data(), params_.numel(), t_, h);
}

double grad_norm(const ParamStore& params) {
  const float* g = params.grads();
  double sum = 0;
#pragma omp parallel for reduction(+ : sum)
  for (int64_t i = 0; i < params.numel(); ++i) sum += double(g[i]) * double(g[i]);
  return std::sqrt(sum);
}

double clip_grad_norm(ParamStore& params, double max_norm) {
  const double norm = grad_norm(params);
  if (max_norm > 0) {
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) scale_grads(params, float(coef));
  }
  return norm;
}

void scale_grads(ParamStore& params, float factor) {
  float* g = params.grads();
#pragma omp parallel for simd
  for (int64_t i = 0; i < params.numel(); ++i) g[i] *= factor;
}

}  // namespace peft
