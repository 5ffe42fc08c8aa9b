// 16-lane float vectors (GCC/Clang vector extensions: one AVX-512 register, two AVX2 ones)
// and the transcendental functions the kernels need without a libm call per element.
#pragma once
#include <cstdint>
#include <cstring>

namespace peft::vec {

constexpr int64_t kW = 16;  // lanes
typedef float vf __attribute__((vector_size(kW * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(kW * sizeof(int32_t))));

inline vf load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
inline vf splat(float x) { return vf{} + x; }
inline float hsum(vf v) {
  float s = 0.f;
  for (int i = 0; i < kW; ++i) s += v[i];
  return s;
}

// exp: x = n·ln2 + r with |r| ≤ ln2/2 (n rounded to nearest by the 1.5·2²³ trick, Cody–Waite
// split of ln2), e^r by its degree-7 Taylor polynomial (relative error < 2e-8 there), times
// 2ⁿ built in the exponent bits. x is clamped to [−87, 88]: very negative inputs give ≈ 1e-38
// (never a denormal), large ones ≈ 1.6e38 (never inf or NaN).
inline vf exp(vf x) {
  const vf lo = splat(-87.0f), hi = splat(88.0f), magic = splat(12582912.0f);
  x = x < lo ? lo : x;
  x = x > hi ? hi : x;
  const vf n = (x * 1.44269504088896341f + magic) - magic;
  const vf r = (x - n * 0.693145751953125f) - n * 1.428606765330187045e-06f;
  vf p = splat(1.f / 5040.f);
  p = p * r + 1.f / 720.f;
  p = p * r + 1.f / 120.f;
  p = p * r + 1.f / 24.f;
  p = p * r + 1.f / 6.f;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  const vi bits = (__builtin_convertvector(n, vi) + 127) << 23;
  vf scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// tanh(x) = 1 − 2 / (e^{2x} + 1): saturates cleanly through exp's clamp; absolute error
// ≈ 1e-7 (relative error grows for |x| < 1e-3, where tanh x ≈ x is tiny anyway).
inline vf tanh(vf x) { return 1.f - 2.f / (vec::exp(2.f * x) + 1.f); }

// σ(x) = 1 / (1 + e^{−x}).
inline vf sigmoid(vf x) { return 1.f / (1.f + vec::exp(-x)); }

// Applies f to whole vectors of [0, n) and to the tail through a zero-padded vector, so
// every element goes through the same arithmetic.
template <class F>
inline void for_each_vector(int64_t n, F&& f) {
  int64_t i = 0;
  for (; i + kW <= n; i += kW) f(i, kW);
  if (i < n) f(i, n - i);
}

// Loads `count` ≤ kW floats (zero-filled), stores `count` back.
inline vf load_n(const float* p, int64_t count) {
  if (count == kW) return load(p);
  vf v{};
  for (int64_t i = 0; i < count; ++i) v[i] = p[i];
  return v;
}
inline void store_n(float* p, vf v, int64_t count) {
  if (count == kW) return store(p, v);
  for (int64_t i = 0; i < count; ++i) p[i] = v[i];
}

}  // namespace peft::vec
