// 8-bit-activation dot products on quantized rows (AVX-512 VNNI, 256-bit lanes: one block of
// 32 activations per register). Layouts as src/quant/dequantize.cpp decodes them.
#include "kernels/quant_dot.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/check.h"
#include "quant/ggml_blocks.h"
#include "quant/quant.h"

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
#include <immintrin.h>
#define PEFT_INT8_DOT 1
#endif

namespace peft {

void quantize_activations(const float* x, int64_t K, Int8Activations& a) {
  PEFT_CHECK(K % 32 == 0, "quantize_activations: K = {} is not a multiple of 32", K);
  a.K = K;
  a.scale.resize(size_t(K / 32));
  a.q.resize(size_t(K));
  a.sum16.resize(size_t(K / 16));
  a.xsum16.resize(size_t(K / 16));
  for (int64_t b = 0; b < K / 32; ++b) {
    const float* xb = x + 32 * b;
    float amax = 0.f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127.f, id = d > 0.f ? 1.f / d : 0.f;
    a.scale[size_t(b)] = d;
    for (int g = 0; g < 2; ++g) {
      int32_t s = 0;
      for (int j = 16 * g; j < 16 * g + 16; ++j) {
        const float v = xb[j] * id;  // NaN only from a non-finite activation: 0 (never an int cast of NaN)
        const int q = std::isnan(v) ? 0 : int(std::nearbyint(std::clamp(v, -127.f, 127.f)));
        a.q[size_t(32 * b + j)] = int8_t(q);
        s += q;
      }
      a.sum16[size_t(2 * b + g)] = s;
      a.xsum16[size_t(2 * b + g)] = d * float(s);
    }
  }
}

#if PEFT_INT8_DOT

namespace {

inline float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
// Σ over groups of 4 of u·s (u unsigned bytes, s signed): 8 int32 lanes.
inline __m256i dot_u8s8(__m256i u, __m256i s) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s); }

// Q8_0: d·q (q signed) — |q| against q_x carrying q's sign, so one operand is unsigned.
float dot_q8_0(const uint8_t* row, const Int8Activations& a) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < a.K / 32; ++b) {
    const uint8_t* blk = row + 34 * b;
    const __m256i w = load32(blk + 2), x = load32(a.q.data() + 32 * b);
    const __m256i p = dot_u8s8(_mm256_abs_epi8(w), _mm256_sign_epi8(x, w));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(load_f16(blk) * a.scale[size_t(b)]), acc);
  }
  return hsum(acc);
}

// Q4_0: d·(q − 8): Σ q·x on the unsigned codes, minus 8·Σx.
float dot_q4_0(const uint8_t* row, const Int8Activations& a) {
  const __m128i mask = _mm_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  float offset = 0.f;
  for (int64_t b = 0; b < a.K / 32; ++b) {
    const uint8_t* blk = row + 18 * b;
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
    const __m256i w = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(bytes, 4), mask), _mm_and_si128(bytes, mask));
    const float s = load_f16(blk) * a.scale[size_t(b)];
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_u8s8(w, load32(a.q.data() + 32 * b))), _mm256_set1_ps(s), acc);
    offset += load_f16(blk) * (a.xsum16[size_t(2 * b)] + a.xsum16[size_t(2 * b + 1)]);
  }
  return hsum(acc) - 8.f * offset;
}

// Q4_K: per sub-block of 32, (d·sc)·Σ q·x − (dmin·m)·Σx; each sub-block is one activation block.
// The eight 6-bit scales and mins are unpacked once per super-block (dequantize.cpp's layout).
float dot_q4_k(const uint8_t* row, const Int8Activations& a) {
  const __m256i mask = _mm256_set1_epi8(0x0F);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  float mins = 0.f;
  for (int64_t sb = 0; sb < a.K / 256; ++sb) {
    const uint8_t* blk = row + 144 * sb;
    const float d = load_f16(blk), dmin = load_f16(blk + 2);
    const uint8_t* s = blk + 4;
    const uint8_t* q = blk + 16;
    const int64_t b0 = 8 * sb;  // first activation block
    const float* dx = a.scale.data() + b0;
    const float* xs = a.xsum16.data() + 2 * b0;
    float f[8];
    float m = 0.f;
    for (int j = 0; j < 4; ++j) {
      const int sc_lo = s[j] & 63, mn_lo = s[j + 4] & 63;
      const int sc_hi = (s[j + 8] & 0x0F) | ((s[j] >> 6) << 4), mn_hi = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
      f[j] = d * float(sc_lo) * dx[j];
      f[j + 4] = d * float(sc_hi) * dx[j + 4];
      m += float(mn_lo) * (xs[2 * j] + xs[2 * j + 1]) + float(mn_hi) * (xs[2 * j + 8] + xs[2 * j + 9]);
    }
    mins += dmin * m;
    const int8_t* xq = a.q.data() + 32 * b0;
    for (int c = 0; c < 4; ++c) {
      const __m256i bytes = load32(q + 32 * c);
      const __m256i lo = _mm256_and_si256(bytes, mask), hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask);
      acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_u8s8(lo, load32(xq + 64 * c))), _mm256_set1_ps(f[2 * c]), acc[c]);
      acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_u8s8(hi, load32(xq + 64 * c + 32))), _mm256_set1_ps(f[2 * c + 1]),
                               acc[c]);
    }
  }
  return hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]))) - mins;
}

// Q6_K: 6-bit codes (q − 32) with a scale per 16: the lanes of one run hold its two halves.
// Per super-block the 16 scale factors d·sc·d_b and the offsets' term 32·d·Σ sc·xsum16 are
// computed 16 at a time.
float dot_q6_k(const uint8_t* row, const Int8Activations& a) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  __m512 offset = _mm512_setzero_ps();
  // Lane i of a group of 16 scales belongs to activation block i / 2.
  const __m512i pair = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  for (int64_t sb = 0; sb < a.K / 256; ++sb) {
    const uint8_t* blk = row + 210 * sb;
    const __m512 d = _mm512_set1_ps(load_f16(blk + 208));
    const __m512 sc =
        _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192))));
    const __m512 dsc = _mm512_mul_ps(d, sc);
    offset = _mm512_fmadd_ps(dsc, _mm512_loadu_ps(a.xsum16.data() + 16 * sb), offset);
    const __m256 dx8 = _mm256_loadu_ps(a.scale.data() + 8 * sb);
    alignas(64) float f[16];
    _mm512_store_ps(f, _mm512_mul_ps(dsc, _mm512_permutexvar_ps(pair, _mm512_castps256_ps512(dx8))));
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = blk + 64 * half;
      const __m256i qh = load32(blk + 128 + 32 * half);
      for (int r = 0; r < 4; ++r) {
        const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(load32(ql + 32 * (r & 1)), 4 * (r >> 1)), m4);
        const __m256i hb = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * r), m2), 4);
        const int64_t b = 8 * sb + 4 * half + r;
        const float* fs = f + 8 * half + 2 * r;
        const __m256i p = dot_u8s8(_mm256_or_si256(lo, hb), load32(a.q.data() + 32 * b));
        acc[r] =
            _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set_m128(_mm_set1_ps(fs[1]), _mm_set1_ps(fs[0])), acc[r]);
      }
    }
  }
  return hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]))) -
         32.f * _mm512_reduce_add_ps(offset);
}

// IQ4_NL's levels (ggml's kvalues_iq4nl) as a pshufb table, twice (one per 128-bit lane).
inline __m256i iq4nl_table() {
  const __m128i t = _mm_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
  return _mm256_set_m128i(t, t);
}

// 32 4-bit codes (16 bytes: low nibbles are elements 0–15, high 16–31) → their signed levels.
inline __m256i iq4_levels(const uint8_t* codes, __m256i table) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes)), m4 = _mm_set1_epi8(0x0F);
  const __m256i idx = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(bytes, 4), m4), _mm_and_si128(bytes, m4));
  return _mm256_shuffle_epi8(table, idx);
}

// Σ v·x for signed levels v: |v| against x carrying v's sign.
inline __m256i dot_s8s8(__m256i v, __m256i x) { return dot_u8s8(_mm256_abs_epi8(v), _mm256_sign_epi8(x, v)); }

// IQ4_NL: d·kv[q] per block of 32.
float dot_iq4_nl(const uint8_t* row, const Int8Activations& a) {
  const __m256i table = iq4nl_table();
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < a.K / 32; ++b) {
    const uint8_t* blk = row + 18 * b;
    const __m256i p = dot_s8s8(iq4_levels(blk + 2, table), load32(a.q.data() + 32 * b));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(load_f16(blk) * a.scale[size_t(b)]), acc);
  }
  return hsum(acc);
}

// IQ4_XS: (d·(sc − 32))·kv[q], eight sub-blocks of 32 laid out as IQ4_NL blocks.
float dot_iq4_xs(const uint8_t* row, const Int8Activations& a) {
  const __m256i table = iq4nl_table();
  __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t sb = 0; sb < a.K / 256; ++sb) {
    const uint8_t* blk = row + 136 * sb;
    const float d = load_f16(blk);
    uint16_t scales_h;
    std::memcpy(&scales_h, blk + 2, 2);
    const uint8_t* scales_l = blk + 4;
    for (int ib = 0; ib < 8; ++ib) {
      const int ls = ((scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((scales_h >> (2 * ib)) & 3) << 4);
      const int64_t b = 8 * sb + ib;
      const __m256i p = dot_s8s8(iq4_levels(blk + 8 + 16 * ib, table), load32(a.q.data() + 32 * b));
      acc[ib & 1] =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d * float(ls - 32) * a.scale[size_t(b)]), acc[ib & 1]);
    }
  }
  return hsum(_mm256_add_ps(acc[0], acc[1]));
}

}  // namespace

bool has_int8_dot(DType t) {
  return t == DType::Q8_0 || t == DType::Q4_0 || t == DType::Q4_K || t == DType::Q6_K || t == DType::IQ4_NL ||
         t == DType::IQ4_XS;
}

float dot_int8(DType t, const uint8_t* row, const Int8Activations& a) {
  switch (t) {
    case DType::Q8_0:
      return dot_q8_0(row, a);
    case DType::Q4_0:
      return dot_q4_0(row, a);
    case DType::Q4_K:
      return dot_q4_k(row, a);
    case DType::Q6_K:
      return dot_q6_k(row, a);
    case DType::IQ4_NL:
      return dot_iq4_nl(row, a);
    case DType::IQ4_XS:
      return dot_iq4_xs(row, a);
    default:
      PEFT_CHECK(false, "dot_int8: {} has no integer kernel", dtype_name(t));
      return 0.f;
  }
}

#else  // no VNNI: the f32 decode-and-dot path serves every type

bool has_int8_dot(DType) { return false; }
float dot_int8(DType t, const uint8_t*, const Int8Activations&) {
  PEFT_CHECK(false, "dot_int8: built without AVX-512 VNNI ({})", dtype_name(t));
  return 0.f;
}

#endif

}  // namespace peft
