// Quantizers: ggml's reference Q8_0 and Q4_0, a Q4_K with a per-sub-block scale search, and
// NF4 (quant/nf4.cpp). Each block is quantized independently, so big tensors split over threads.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/check.h"
#include "quant/nf4.h"
#include "quant/quant.h"

namespace peft {

namespace {

void store_f16(uint8_t* p, float x) {
  const uint16_t h = f32_to_f16(x);
  std::memcpy(p, &h, 2);
}

// ggml's quantize_row_q8_0_ref: d = max|x| / 127, q = round-half-away(x / d).
void quantize_q8_0_block(const float* x, uint8_t* b) {
  float amax = 0.f;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.f, id = d != 0.f ? 1.f / d : 0.f;
  store_f16(b, d);
  for (int j = 0; j < 32; ++j) b[2 + j] = uint8_t(int8_t(std::lround(x[j] * id)));
}

// ggml's quantize_row_q4_0_ref: d = (the signed value of largest magnitude) / −8, so that
// value maps to code 0 exactly; q = min(15, trunc(x/d + 8.5)).
void quantize_q4_0_block(const float* x, uint8_t* b) {
  float amax = 0.f, max = 0.f;
  for (int j = 0; j < 32; ++j)
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  const float d = max / -8.f, id = d != 0.f ? 1.f / d : 0.f;
  store_f16(b, d);
  for (int j = 0; j < 16; ++j) {
    const uint8_t lo = uint8_t(std::min(15, int(int8_t(x[j] * id + 8.5f))));
    const uint8_t hi = uint8_t(std::min(15, int(int8_t(x[j + 16] * id + 8.5f))));
    b[2 + j] = uint8_t(lo | (hi << 4));
  }
}

// One Q4_K sub-block of 32: x ≈ scale·q − min with q ∈ [0, 15], min ≥ 0 (the range is
// widened to include 0, as ggml does). Tries 21 candidate steps around (max − min)/15,
// refits scale and min by least squares for each code assignment, keeps the smallest
// squared error.
void fit_sub_block(const float* x, float& scale, float& min_out) {
  float lo = std::min(0.f, *std::min_element(x, x + 32)), hi = *std::max_element(x, x + 32);
  if (hi <= lo) {
    scale = 0.f;
    min_out = -lo;
    return;
  }
  float best_err = INFINITY;
  scale = (hi - lo) / 15.f;
  min_out = -lo;
  for (int step = -10; step <= 10; ++step) {
    const float iscale = (15.f + 0.1f * float(step)) / (hi - lo);
    double sl = 0, sx = 0, sll = 0, slx = 0;
    uint8_t L[32];
    for (int j = 0; j < 32; ++j) {
      L[j] = uint8_t(std::clamp(int(std::nearbyint(iscale * (x[j] - lo))), 0, 15));
      sl += L[j];
      sx += x[j];
      sll += double(L[j]) * L[j];
      slx += double(L[j]) * x[j];
    }
    const double det = 32 * sll - sl * sl;
    if (det <= 0) continue;
    double s = (32 * slx - sl * sx) / det, m = (sx - s * sl) / 32;  // x ≈ s·L + m
    if (m > 0) {  // the offset must stay ≤ 0 (a non-negative stored min)
      m = 0;
      s = slx / sll;
    }
    double err = 0;
    for (int j = 0; j < 32; ++j) err += (s * L[j] + m - x[j]) * (s * L[j] + m - x[j]);
    if (err < best_err) {
      best_err = float(err);
      scale = float(s);
      min_out = float(-m);
    }
  }
}

// Q4_K: 8 sub-block scales and mins in 6 bits under two f16 super-scales, then the codes
// recomputed against the stored (rounded) scales.
void quantize_q4_k_block(const float* x, uint8_t* b) {
  float scales[8], mins[8];
  for (int j = 0; j < 8; ++j) fit_sub_block(x + 32 * j, scales[j], mins[j]);
  const float max_scale = *std::max_element(scales, scales + 8), max_min = *std::max_element(mins, mins + 8);
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f, inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t ls[8], lm[8];
  for (int j = 0; j < 8; ++j) {
    ls[j] = uint8_t(std::min(63, int(std::nearbyint(inv_scale * scales[j]))));
    lm[j] = uint8_t(std::min(63, int(std::nearbyint(inv_min * mins[j]))));
  }
  store_f16(b, max_scale / 63.f);
  store_f16(b + 2, max_min / 63.f);
  uint8_t* s = b + 4;
  for (int j = 0; j < 4; ++j) {
    s[j] = uint8_t((ls[j] & 63) | ((ls[j + 4] >> 4) << 6));
    s[j + 4] = uint8_t((lm[j] & 63) | ((lm[j + 4] >> 4) << 6));
    s[j + 8] = uint8_t((ls[j + 4] & 0x0F) | ((lm[j + 4] & 0x0F) << 4));
  }
  uint16_t dh, mh;
  std::memcpy(&dh, b, 2);
  std::memcpy(&mh, b + 2, 2);
  const float d = f16_to_f32(dh), dmin = f16_to_f32(mh);
  uint8_t L[256];
  for (int j = 0; j < 8; ++j) {
    const float dq = d * float(ls[j]), dm = dmin * float(lm[j]);
    for (int l = 0; l < 32; ++l)
      L[32 * j + l] = dq > 0 ? uint8_t(std::clamp(int(std::nearbyint((x[32 * j + l] + dm) / dq)), 0, 15)) : 0;
  }
  uint8_t* q = b + 16;
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) q[32 * c + l] = uint8_t(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
}

}  // namespace

bool quant_can_quantize(DType t) { return t == DType::Q8_0 || t == DType::Q4_0 || t == DType::Q4_K || t == DType::NF4; }

void quantize(void* dst, const float* src, DType t, int64_t n) {
  PEFT_CHECK(quant_can_quantize(t), "quantize: peft cannot write {}", dtype_name(t));
  const int64_t block = quant_block(t);
  PEFT_CHECK(n % block == 0, "{}: {} elements is not a whole number of blocks of {}", dtype_name(t), n, block);
  if (t == DType::NF4) return nf4_quantize(dst, src, n);
  void (*fn)(const float*, uint8_t*) = t == DType::Q8_0   ? quantize_q8_0_block
                                       : t == DType::Q4_0 ? quantize_q4_0_block
                                                          : quantize_q4_k_block;
  const size_t bytes = quant_nbytes(t, block);
  auto* out = static_cast<uint8_t*>(dst);
  const int64_t blocks = n / block;
#pragma omp parallel for schedule(static) if (blocks > 256)
  for (int64_t b = 0; b < blocks; ++b) fn(src + b * block, out + size_t(b) * bytes);
}

}  // namespace peft
