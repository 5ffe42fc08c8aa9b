// Rotary position embeddings applied in place, with angles computed in fp32 as Hugging Face does.
#include "kernels/rope.h"

#include <cmath>

#include "core/check.h"

namespace peft {
namespace {

constexpr int64_t kMaxHalf = 1024;  // rot_dim / 2 bound for the per-row angle tables on the stack

// Rotates every pair of x (N, H, hd) by sign·φ.  Backward is the same rotation by −φ because
// the rotation matrix is orthogonal: ∂L/∂x = Rᵀ ∂L/∂y = R(−φ) ∂L/∂y.
void rope_rotate(float* x, const int32_t* positions, int64_t N, int64_t H, int64_t hd, const RopeSpec& spec,
                 float sign) {
  const int64_t rot = spec.rot_dim, half = rot / 2;
  PEFT_CHECK(rot >= 0 && rot % 2 == 0 && rot <= hd, "rot_dim {} must be even and <= head_dim {}", rot, hd);
  PEFT_CHECK(half <= kMaxHalf, "rot_dim {} too large", rot);
  if (half == 0) return;
  // inv_freq is the same for every row: 1 / theta^(2i/rot) in fp32 (torch: 1.0 / base **
  // (arange/dim)).
  float inv_freq[kMaxHalf];
  for (int64_t i = 0; i < half; ++i) inv_freq[i] = 1.0f / powf(spec.theta, float(2 * i) / float(rot));
  const bool interleaved = spec.layout == RopeLayout::Interleaved;
#pragma omp parallel for schedule(static) if (N * H * hd > 16384)
  for (int64_t n = 0; n < N; ++n) {
    float cs[kMaxHalf], sn[kMaxHalf];
    const float pos = float(positions[n]);
    for (int64_t i = 0; i < half; ++i) {
      const float phi = pos * inv_freq[i];
      cs[i] = cosf(phi);
      sn[i] = sign * sinf(phi);
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
