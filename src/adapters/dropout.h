// Dropout whose mask is a pure function of (seed, stream, element), shared by the adapters:
// the backward regenerates the mask instead of storing it, and a reference implementation can
// reproduce it bit for bit (AdaMix's routing uses the same counter hash).
#pragma once
#include <cstdint>

namespace peft {

// splitmix64-style mix of (seed, a, b); all arithmetic mod 2⁶⁴.
inline uint64_t counter_hash(uint64_t seed, uint64_t a, uint64_t b) {
  uint64_t z = seed ^ (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xbf58476d1ce4e5b9ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform [0, 1) with 24 random bits.
inline float counter_uniform(uint64_t seed, uint64_t stream, uint64_t i) {
  return float(counter_hash(seed, stream, i) >> 40) * (1.0f / 16777216.0f);
}

// x_d (n) = x with each element dropped with probability p and the rest scaled by 1/(1−p).
inline void dropout_forward(float* x_d, const float* x, int64_t n, float p, uint64_t seed, uint64_t stream) {
  const float keep_scale = 1.f / (1.f - p);
#pragma omp parallel for
  for (int64_t i = 0; i < n; ++i) x_d[i] = counter_uniform(seed, stream, uint64_t(i)) < p ? 0.f : x[i] * keep_scale;
}

// dx (n) += mask ⊙ d_xd / (1 − p), the mask regenerated from (seed, stream).
inline void dropout_backward(float* dx, const float* d_xd, int64_t n, float p, uint64_t seed, uint64_t stream) {
  const float keep_scale = 1.f / (1.f - p);
#pragma omp parallel for
  for (int64_t i = 0; i < n; ++i)
    if (counter_uniform(seed, stream, uint64_t(i)) >= p) dx[i] += d_xd[i] * keep_scale;
}

}  // namespace peft
