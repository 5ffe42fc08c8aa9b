// Rotary position embeddings applied in place, with angles computed in fp32 as Hugging Face does.
#include "kernels/rope.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace peft {
namespace {

constexpr int64_t kMaxHalf = 1024;  // rot_dim / 2 bound for the per-row angle tables on the stack

// theta^(-2i/rot) for i < rot/2, in fp32 as torch computes 1.0 / base ** (arange(0, rot, 2) / rot).
void default_inv_freq(float theta, int64_t rot, float* inv_freq) {
  for (int64_t i = 0; i < rot / 2; ++i) inv_freq[i] = 1.0f / powf(theta, float(2 * i) / float(rot));
}

// Llama 3.1's smooth split: wavelengths above original/low_freq_factor are interpolated by
// `factor`, those below original/high_freq_factor kept, and the band between blended by
// s = (original/λ − low) / (high − low): f' = (1 − s)·f/factor + s·f.
void llama3_inv_freq(const RopeSpec& spec, float* inv_freq) {
  const float two_pi = float(2.0 * M_PI);
  const float old_len = float(spec.original_max_positions), factor = float(spec.factor);
  const float low = float(spec.low_freq_factor), high = float(spec.high_freq_factor);
  const float low_wavelen = old_len / low, high_wavelen = old_len / high;
  for (int64_t i = 0; i < spec.rot_dim / 2; ++i) {
    const float f = inv_freq[i], wavelen = two_pi / f;
    const float kept = wavelen > low_wavelen ? f / factor : f;
    if (wavelen < high_wavelen || wavelen > low_wavelen) {
      inv_freq[i] = kept;
    } else {
      const float s = (old_len / wavelen - low) / (high - low);
      inv_freq[i] = (1 - s) * kept / factor + s * kept;
    }
  }
}

// YaRN: f' = f/factor·(1 − e_i) + f·e_i with e_i = 1 − clamp((i − lo)/(hi − lo), 0, 1), the
// correction range [lo, hi] being the dims that rotate between beta_fast and beta_slow times
// over the original length (transformers' find_correction_range, in double).
void yarn_inv_freq(const RopeSpec& spec, float* inv_freq) {
  const double dim = double(spec.rot_dim), base = spec.theta;
  const double orig = double(spec.original_max_positions);
  auto correction_dim = [&](double rotations) {
    return dim * std::log(orig / (rotations * 2 * M_PI)) / (2 * std::log(base));
  };
  double lo = correction_dim(spec.beta_fast), hi = correction_dim(spec.beta_slow);
  if (spec.yarn_truncate) lo = std::floor(lo), hi = std::ceil(hi);
  lo = std::max(lo, 0.0);
  hi = std::min(hi, dim - 1);
  if (lo == hi) hi += 0.001;  // transformers: prevents a division by zero
  const float factor = float(spec.factor);
  for (int64_t i = 0; i < spec.rot_dim / 2; ++i) {
    const float ramp = std::clamp((float(i) - float(lo)) / (float(hi) - float(lo)), 0.0f, 1.0f);
    const float extrapolation = 1.0f - ramp;
    const float f = inv_freq[i];
    inv_freq[i] = f / factor * (1 - extrapolation) + f * extrapolation;
  }
}

}  // namespace

void rope_inv_freq(const RopeSpec& spec, int64_t seq_len, float* inv_freq) {
  const int64_t rot = spec.rot_dim, half = rot / 2;
  switch (spec.scaling) {
    case RopeScaling::None:
      default_inv_freq(spec.theta, rot, inv_freq);
      return;
    case RopeScaling::Linear:
      default_inv_freq(spec.theta, rot, inv_freq);
      for (int64_t i = 0; i < half; ++i) inv_freq[i] /= float(spec.factor);
      return;
    case RopeScaling::Dynamic: {
      // base' = base · (factor · L / max − (factor − 1))^(dim/(dim − 2)), L = max(seq_len, max):
      // the plain frequencies up to the trained length.
      const double len = double(std::max(seq_len, spec.max_positions)), max = double(spec.max_positions);
      const double base =
          double(spec.theta) * std::pow(spec.factor * len / max - (spec.factor - 1), double(rot) / double(rot - 2));
      default_inv_freq(float(base), rot, inv_freq);
      return;
    }
    case RopeScaling::Llama3:
      default_inv_freq(spec.theta, rot, inv_freq);
      llama3_inv_freq(spec, inv_freq);
      return;
    case RopeScaling::LongRope: {
      const std::vector<float>& ext = seq_len > spec.original_max_positions ? spec.long_factor : spec.short_factor;
      PEFT_CHECK(int64_t(ext.size()) == half, "longrope factors: {} for {} frequencies", ext.size(), half);
      for (int64_t i = 0; i < half; ++i)
        inv_freq[i] = 1.0f / (ext[size_t(i)] * powf(spec.theta, float(2 * i) / float(rot)));
      return;
    }
    case RopeScaling::Yarn:
      default_inv_freq(spec.theta, rot, inv_freq);
      yarn_inv_freq(spec, inv_freq);
      return;
  }
}

namespace {

// Rotates every pair of x (N, H, hd) by sign·φ and scales it by m = attention_factor.
// Backward is the same map by −φ because the rotation matrix is orthogonal:
// ∂L/∂x = m Rᵀ ∂L/∂y = m R(−φ) ∂L/∂y.
void rope_rotate(float* x, const int32_t* positions, int64_t N, int64_t H, int64_t hd, const RopeSpec& spec,
                 float sign) {
  const int64_t rot = spec.rot_dim, half = rot / 2;
  PEFT_CHECK(rot >= 0 && rot % 2 == 0 && rot <= hd, "rot_dim {} must be even and <= head_dim {}", rot, hd);
  PEFT_CHECK(half <= kMaxHalf, "rot_dim {} too large", rot);
  if (half == 0 || N == 0) return;
  // The frequencies are the same for every row of this forward; scaled RoPE may depend on its
  // length (the largest position + 1), as in transformers.
  int32_t max_pos = 0;
  for (int64_t n = 0; n < N; ++n) max_pos = std::max(max_pos, positions[n]);
  float inv_freq[kMaxHalf];
  rope_inv_freq(spec, int64_t(max_pos) + 1, inv_freq);
  const float m = spec.attention_factor;
  const bool interleaved = spec.layout == RopeLayout::Interleaved;
#pragma omp parallel for schedule(static) if (N * H * hd > 16384)
  for (int64_t n = 0; n < N; ++n) {
    float cs[kMaxHalf], sn[kMaxHalf];
    const float pos = float(positions[n]);
    for (int64_t i = 0; i < half; ++i) {
      const float phi = pos * inv_freq[i];
      cs[i] = cosf(phi) * m;
      sn[i] = sign * (sinf(phi) * m);
    }
    for (int64_t h = 0; h < H; ++h) {
      float* v = x + (n * H + h) * hd;
      for (int64_t i = 0; i < half; ++i) {
        float* pa = interleaved ? v + 2 * i : v + i;
        float* pb = interleaved ? v + 2 * i + 1 : v + i + half;
        const float a = *pa, b = *pb;
        *pa = a * cs[i] - b * sn[i];
        *pb = b * cs[i] + a * sn[i];
      }
    }
  }
}

}  // namespace

void rope_forward(float* x, const int32_t* positions, int64_t N, int64_t H, int64_t hd, const RopeSpec& spec) {
  rope_rotate(x, positions, N, H, hd, spec, 1.0f);
}

void rope_backward(float* dx, const int32_t* positions, int64_t N, int64_t H, int64_t hd, const RopeSpec& spec) {
  rope_rotate(dx, positions, N, H, hd, spec, -1.0f);
}

}  // namespace peft
