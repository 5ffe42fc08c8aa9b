// Row-at-a-time low-rank update: 16-lane dot products with a fixed summation order.
#include "kernels/lowrank_rows.h"

#include "kernels/vec_math.h"

namespace peft {
namespace {

// Σ a[i]·b[i]: lanes accumulate 16 apart, the tail through a zero-padded vector, then the
// lanes are summed in order.
inline float dot(const float* a, const float* b, int64_t n) {
  vec::vf acc = vec::splat(0.f);
  int64_t i = 0;
  for (; i + vec::kW <= n; i += vec::kW) acc += vec::load(a + i) * vec::load(b + i);
  if (i < n) {
    float ta[vec::kW] = {}, tb[vec::kW] = {};
    for (int64_t k = i; k < n; ++k) {
      ta[k - i] = a[k];
      tb[k - i] = b[k];
    }
    acc += vec::load(ta) * vec::load(tb);
  }
  return vec::hsum(acc);
}

}  // namespace

void lowrank_rows_forward(float* y, float* u, const float* x, const float* A, const float* B, float s, int64_t N,
                          int64_t in, int64_t r, int64_t out) {
  for (int64_t n = 0; n < N; ++n) {
    float* un = u + n * r;
    const float* xn = x + n * in;
    for (int64_t j = 0; j < r; ++j) un[j] = s * dot(xn, A + j * in, in);
    float* yn = y + n * out;
    for (int64_t o = 0; o < out; ++o) yn[o] += dot(un, B + o * r, r);
  }
}

}  // namespace peft
