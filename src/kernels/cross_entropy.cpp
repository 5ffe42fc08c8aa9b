// Softmax cross-entropy per row, and the LM head fused with it chunk by chunk.
#include "kernels/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/vec_math.h"

namespace peft {

// loss = logsumexp(l) − l_t  ⇒  ∂loss/∂l_j = softmax(l)_j − [j = t].
void cross_entropy_forward_backward(float* losses, float* dlogits, const float* logits, const int32_t* targets,
                                    int64_t N, int64_t V, float grad_scale) {
  for (int64_t n = 0; n < N; ++n) PEFT_CHECK(targets[n] < V, "target {} at row {} outside [0, {})", targets[n], n, V);
#pragma omp parallel for schedule(static) if (N * V > 16384)
  for (int64_t n = 0; n < N; ++n) {
    const float* l = logits + n * V;
    float* d = dlogits ? dlogits + n * V : nullptr;
    const int32_t tgt = targets[n];
    if (tgt < 0) {
      losses[n] = 0.f;
      if (d) std::fill(d, d + V, 0.f);
      continue;
    }
    const float lt = l[tgt];  // read before d (which may alias l) is written
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < V; ++j) mx = std::max(mx, l[j]);
    // exp in fp32 (vec::exp, 16 lanes at a time), each vector's terms summed in fp32 and the
    // vectors in double (V terms, so the sum is where error grows).
    double sum = 0.0;
    const vec::vf shift = vec::splat(mx);
    vec::for_each_vector(V, [&](int64_t j, int64_t m) {
      vec::vf e = vec::exp(vec::load_n(l + j, m) - shift);
      for (int64_t i = m; i < vec::kW; ++i) e[i] = 0.f;  // lanes past V
      if (d) vec::store_n(d + j, e, m);                  // d[j..] aliases at most l[j..], just read
      sum += double(vec::hsum(e));
    });
    losses[n] = float(double(mx) + std::log(sum) - double(lt));
    if (d) {
      const float k = float(double(grad_scale) / sum);
      for (int64_t j = 0; j < V; ++j) d[j] *= k;
      d[tgt] -= grad_scale;
    }
  }
}

// c · tanh(l / c) has derivative 1 − tanh²(l / c).
void softcap_forward(float* logits, float* dcap, int64_t n, float cap) {
  const float inv = 1.f / cap;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t j0 = 0; j0 < n; j0 += 4096) {
    const int64_t m = std::min<int64_t>(4096, n - j0);
    vec::for_each_vector(m, [&](int64_t j, int64_t k) {
      const vec::vf t = vec::tanh(vec::load_n(logits + j0 + j, k) * inv);
      vec::store_n(logits + j0 + j, cap * t, k);
      if (dcap) vec::store_n(dcap + j0 + j, 1.f - t * t, k);
    });
  }
}

// Rows are independent, so the chunked loss and gradient equal the unchunked ones:
// logits = h Wᵀ + b,  dh += dlogits · W  (linear_backward_input accumulates).
double lm_head_cross_entropy(float* dh, const float* h, const Tensor& W, const float* bias, const int32_t* targets,
                             int64_t N, float grad_scale, float* scratch, int64_t chunk, float softcap) {
  PEFT_CHECK(chunk > 0, "chunk must be positive, got {}", chunk);
  const int64_t V = W.dim(0), C = W.dim(1);
  thread_local std::vector<float> losses;  // (chunk); only grows
  if (int64_t(losses.size()) < chunk) losses.resize(size_t(chunk));
  thread_local std::vector<float> dcap;  // (chunk, V) when soft-capping with a gradient
  if (softcap > 0.f && dh && int64_t(dcap.size()) < chunk * V) dcap.resize(size_t(chunk * V));
  double total = 0.0;
  for (int64_t n0 = 0; n0 < N; n0 += chunk) {
    const int64_t rows = std::min(chunk, N - n0);
    // A chunk whose targets are all ignored (e.g. a masked prompt) contributes nothing.
    if (std::all_of(targets + n0, targets + n0 + rows, [](int32_t t) { return t < 0; })) continue;
    linear_forward(scratch, h + n0 * C, W, bias, rows);  // scratch (rows, V)
    if (softcap > 0.f) softcap_forward(scratch, dh ? dcap.data() : nullptr, rows * V, softcap);
    cross_entropy_forward_backward(losses.data(), dh ? scratch : nullptr, scratch, targets + n0, rows, V, grad_scale);
    if (softcap > 0.f && dh)
      for (int64_t i = 0; i < rows * V; ++i) scratch[i] *= dcap[size_t(i)];
    for (int64_t i = 0; i < rows; ++i) total += losses[size_t(i)];
    if (dh) linear_backward_input(dh + n0 * C, scratch, W, rows);
  }
  return total;
}

}  // namespace peft
