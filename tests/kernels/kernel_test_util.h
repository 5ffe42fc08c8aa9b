// Helpers shared by the kernel tests: seeded data, normwise errors, central finite differences.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace peft::ktest {

using VecD = std::vector<double>;
using VecF = std::vector<float>;

// Uniform in [lo, hi), reproducible per seed.
inline VecF uniform(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  VecF v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

inline VecD to_d(const VecF& v) { return VecD(v.begin(), v.end()); }

// The value a float takes after rounding to bf16 (what a bf16 kernel actually multiplies).
inline float bf16_round(float x) { return bf16_to_f32(f32_to_bf16(x)); }
inline VecF bf16_round(const VecF& v) {
  VecF r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = bf16_round(v[i]);
  return r;
}
inline std::vector<uint16_t> to_bf16(const VecF& v) {
  std::vector<uint16_t> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = f32_to_bf16(v[i]);
  return r;
}

// Normwise relative error max|got − want| / max|want|: elementwise relative error is
// meaningless for entries that are (nearly) zero.
template <class G>
double rel_err(const G& got, const VecD& want) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < want.size(); ++i) {
    num = std::max(num, std::abs(double(got[i]) - want[i]));
    den = std::max(den, std::abs(want[i]));
  }
  return den > 0.0 ? num / den : num;
}

// Gradient added to a buffer that started at `before` (checks backward accumulates).
inline VecD added(const VecF& after, const VecF& before) {
  VecD d(after.size());
  for (size_t i = 0; i < after.size(); ++i) d[i] = double(after[i]) - double(before[i]);
  return d;
}

// "1.23e-07": errors recorded as test properties (visible with --gtest_output=xml).
inline std::string sci(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", x);
  return buf;
}

inline double dot(const VecD& a, const VecD& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Central finite-difference gradient of L(x) = Σ_i f(x)_i · R_i, all in double, so the check is
// not limited by float rounding.  f is a double-precision reference forward.
inline VecD fd_grad(const std::function<VecD(const VecD&)>& f, VecD x, const VecD& R, double h = 1e-5) {
  VecD g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double x0 = x[i];
    x[i] = x0 + h;
    const double lp = dot(f(x), R);
    x[i] = x0 - h;
    const double lm = dot(f(x), R);
    x[i] = x0;
    g[i] = (lp - lm) / (2.0 * h);
  }
  return g;
}

}  // namespace peft::ktest
