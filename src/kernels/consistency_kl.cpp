// Symmetric-KL consistency loss and its stop-gradient backward, row by row.
#include "kernels/consistency_kl.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace peft {

namespace {
// logp (V) = log_softmax(l) in double.
void log_softmax(double* logp, const float* l, int64_t V) {
  double mx = -INFINITY;
  for (int64_t v = 0; v < V; ++v) mx = std::max(mx, double(l[v]));
  double sum = 0;
  for (int64_t v = 0; v < V; ++v) sum += std::exp(double(l[v]) - mx);
  const double lse = mx + std::log(sum);
  for (int64_t v = 0; v < V; ++v) logp[v] = double(l[v]) - lse;
}
}  // namespace

double consistency_kl_forward_backward(float* d1, float* d2, const float* l1, const float* l2, const int32_t* targets,
                                       int64_t N, int64_t V, float grad_scale) {
  int64_t count = 0;
  for (int64_t n = 0; n < N; ++n) count += targets[n] >= 0;
  double total = 0;
  const double w = count ? 1.0 / (2.0 * double(count)) : 0.0;
#pragma omp parallel reduction(+ : total)
  {
    std::vector<double> a(static_cast<size_t>(V)), b(static_cast<size_t>(V));
#pragma omp for
    for (int64_t n = 0; n < N; ++n) {
      const float* x1 = l1 + n * V;
      const float* x2 = l2 + n * V;
      if (targets[n] < 0) {
        if (d1) std::memset(d1 + n * V, 0, size_t(V) * sizeof(float));
        if (d2) std::memset(d2 + n * V, 0, size_t(V) * sizeof(float));
        continue;
      }
      log_softmax(a.data(), x1, V);
      log_softmax(b.data(), x2, V);
      double kl12 = 0, kl21 = 0;
      for (int64_t v = 0; v < V; ++v) {
        kl12 += std::exp(a[size_t(v)]) * (a[size_t(v)] - b[size_t(v)]);
        kl21 += std::exp(b[size_t(v)]) * (b[size_t(v)] - a[size_t(v)]);
      }
      total += w * (kl12 + kl21);
      const double s = w * double(grad_scale);
      if (d1)
        for (int64_t v = 0; v < V; ++v)
          d1[n * V + v] = float(s * std::exp(a[size_t(v)]) * (a[size_t(v)] - b[size_t(v)] - kl12));
      if (d2)
        for (int64_t v = 0; v < V; ++v)
          d2[n * V + v] = float(s * std::exp(b[size_t(v)]) * (b[size_t(v)] - a[size_t(v)] - kl21));
    }
  }
  return total;
}

}  // namespace peft
