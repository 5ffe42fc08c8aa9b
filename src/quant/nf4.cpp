// NF4 with double-quantized absmaxes (bitsandbytes' layout and arithmetic; nf4.h).
#include "quant/nf4.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/check.h"

namespace peft {

namespace {

// bitsandbytes' NF4 table: the quantiles of N(0, 1) normalised to [−1, 1] with an exact zero
// (QLoRA, appendix E).
constexpr float kNf4[16] = {-1.0f,
                            -0.6961928009986877f,
                            -0.5250730514526367f,
                            -0.39491748809814453f,
                            -0.28444138169288635f,
                            -0.18477343022823334f,
                            -0.09105003625154495f,
                            0.0f,
                            0.07958029955625534f,
                            0.16093020141124725f,
                            0.24611230194568634f,
                            0.33791524171829224f,
                            0.44070982933044434f,
                            0.5626170039176941f,
                            0.7229568362236023f,
                            1.0f};

// create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for exponents
// e = 0 … 6, 2^e means of adjacent points of linspace(0.1, 1, 2^e + 1) scaled by ±10^(e−6),
// plus 0 and 1, sorted — computed in f32 as torch computes it.
std::array<float, 256> make_dynamic_map() {
  std::vector<float> data;
  for (int e = 0; e < 7; ++e) {
    const int steps = (1 << e) + 1;
    // torch.linspace(0.1, 1, steps) in f32: start + i·step below the middle, end − (steps−1−i)·step above.
    const float start = 0.1f, end = 1.0f, step = (end - start) / float(steps - 1);
    std::vector<float> b(static_cast<size_t>(steps));
    for (int i = 0; i < steps; ++i)
      b[size_t(i)] = i < steps / 2 ? start + step * float(i) : end - step * float(steps - 1 - i);
    const float scale = float(std::pow(10.0, double(e - 6)));
    for (int i = 0; i + 1 < steps; ++i) {
      const float mean = (b[size_t(i)] + b[size_t(i + 1)]) / 2.0f;
      data.push_back(scale * mean);
      data.push_back(-scale * mean);
    }
  }
  data.push_back(0.0f);
  data.push_back(1.0f);
  PEFT_CHECK(data.size() == 256, "dynamic map has {} entries", data.size());
  std::sort(data.begin(), data.end());
  std::array<float, 256> out{};
  std::copy(data.begin(), data.end(), out.begin());
  return out;
}

// Index of the NF4 value nearest to x ∈ [−1, 1]: the number of midpoints below x (the
// comparisons of bitsandbytes' dQuantizeNF4 tree).
uint8_t nearest_nf4(float x) {
  static const std::array<float, 15> mids = [] {
    std::array<float, 15> m{};
    for (int i = 0; i < 15; ++i) m[size_t(i)] = float((double(kNf4[i]) + double(kNf4[i + 1])) / 2.0);
    return m;
  }();
  if (std::isnan(x)) return 7;  // a zero block (absmax 0): the exact zero
  uint8_t q = 0;
  for (float m : mids) q += x > m ? 1 : 0;
  return q;
}

// Index of the dynamic-map value nearest to x (the lower one on a tie).
uint8_t nearest_dynamic(float x) {
  const float* code = nf4_dynamic_map();
  if (std::isnan(x)) return uint8_t(std::lower_bound(code, code + 256, 0.0f) - code);
  const float* hi = std::lower_bound(code, code + 256, x);
  if (hi == code) return 0;
  if (hi == code + 256) return 255;
  const float* lo = hi - 1;
  return uint8_t((x - *lo <= *hi - x ? lo : hi) - code);
}

struct Nf4Regions {
  int64_t blocks, groups;
  size_t codes, absmax_codes, group_absmax, offset;  // byte offsets
};

Nf4Regions regions(int64_t n) {
  PEFT_CHECK(n % kNf4Block == 0, "NF4: {} elements is not a whole number of blocks of {}", n, kNf4Block);
  Nf4Regions r;
  r.blocks = n / kNf4Block;
  r.groups = (r.blocks + kNf4GroupBlocks - 1) / kNf4GroupBlocks;
  r.codes = 0;
  r.absmax_codes = size_t(n / 2);
  r.group_absmax = r.absmax_codes + size_t(r.blocks);
  r.offset = r.group_absmax + size_t(r.groups) * 4;
  return r;
}

float load_f32(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, 4);
  return f;
}

}  // namespace

const float* nf4_values() { return kNf4; }

const float* nf4_dynamic_map() {
  static const std::array<float, 256> map = make_dynamic_map();
  return map.data();
}

size_t nf4_nbytes(int64_t n) { return regions(n).offset + 4; }

void nf4_quantize(void* dst, const float* src, int64_t n) {
  const Nf4Regions r = regions(n);
  auto* out = static_cast<uint8_t*>(dst);
  std::vector<float> absmax(size_t(r.blocks));
  // First level: codes against each block's absmax (x · (1/absmax), as the kernel scales).
#pragma omp parallel for schedule(static) if (r.blocks > 1024)
  for (int64_t b = 0; b < r.blocks; ++b) {
    const float* x = src + b * kNf4Block;
    float amax = 0.f;
    for (int64_t j = 0; j < kNf4Block; ++j) amax = std::max(amax, std::fabs(x[j]));
    absmax[size_t(b)] = amax;
    const float inv = 1.0f / amax;
    for (int64_t j = 0; j < kNf4Block; j += 2)
      out[r.codes + size_t(b * kNf4Block + j) / 2] =
          uint8_t(nearest_nf4(x[j] * inv) << 4 | nearest_nf4(x[j + 1] * inv));
  }
  // Second level: the absmaxes minus their mean, blockwise-8-bit in groups of 256.
  double sum = 0.0;
  for (float a : absmax) sum += a;
  const float offset = float(sum / double(r.blocks));
  for (int64_t g = 0; g < r.groups; ++g) {
    const int64_t b0 = g * kNf4GroupBlocks, b1 = std::min(r.blocks, b0 + kNf4GroupBlocks);
    float amax2 = 0.f;
    for (int64_t b = b0; b < b1; ++b) amax2 = std::max(amax2, std::fabs(absmax[size_t(b)] - offset));
    const float inv = 1.0f / amax2;
    for (int64_t b = b0; b < b1; ++b)
      out[r.absmax_codes + size_t(b)] = nearest_dynamic((absmax[size_t(b)] - offset) * inv);
    std::memcpy(out + r.group_absmax + size_t(g) * 4, &amax2, 4);
  }
  std::memcpy(out + r.offset, &offset, 4);
}

void nf4_dequantize(float* dst, const void* src, int64_t n, int64_t e0, int64_t e1) {
  const Nf4Regions r = regions(n);
  PEFT_CHECK(0 <= e0 && e0 <= e1 && e1 <= n && e0 % kNf4Block == 0 && e1 % kNf4Block == 0,
             "NF4: elements [{}, {}) of {} are not whole blocks", e0, e1, n);
  const auto* in = static_cast<const uint8_t*>(src);
  const float* code = nf4_dynamic_map();
  const float offset = load_f32(in + r.offset);
  for (int64_t b = e0 / kNf4Block; b < e1 / kNf4Block; ++b) {
    const float a2 = load_f32(in + r.group_absmax + size_t(b / kNf4GroupBlocks) * 4);
    const float scaled = code[in[r.absmax_codes + size_t(b)]] * a2;  // dequantize_blockwise
    const float absmax = scaled + offset;                            // absmax += offset
    const uint8_t* q = in + r.codes + size_t(b * kNf4Block) / 2;
    float* y = dst + (b * kNf4Block - e0);
    for (int64_t j = 0; j < kNf4Block / 2; ++j) {
      y[2 * j] = kNf4[q[j] >> 4] * absmax;
      y[2 * j + 1] = kNf4[q[j] & 0x0F] * absmax;
    }
  }
}

int64_t nf4_first_bad_block(const void* src, int64_t n) {
  const Nf4Regions r = regions(n);
  const auto* in = static_cast<const uint8_t*>(src);
  if (!std::isfinite(load_f32(in + r.offset))) return 0;
  for (int64_t g = 0; g < r.groups; ++g)
    if (!std::isfinite(load_f32(in + r.group_absmax + size_t(g) * 4))) return g * kNf4GroupBlocks;
  return -1;
}

}  // namespace peft
