// Dequantization of ggml's block types, bit-identical to ggml's dequantize_row_* and gguf-py.
// Each decoder writes one block; the loops are shaped so the compiler vectorizes them
// (contiguous runs of 16 or 32 outputs from one scale).
#include <cmath>
#include <vector>

#include "core/check.h"
#include "quant/ggml_blocks.h"
#include "quant/nf4.h"
#include "quant/quant.h"

#if defined(__AVX512BF16__) && defined(__AVX512VL__)
#include <immintrin.h>
#endif

namespace peft {

namespace {

// IQ4_NL's non-linear code book (ggml's kvalues_iq4nl).
constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// Q8_0 (34 bytes): d f16, q int8[32]; x = d·q.
void decode_q8_0(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  const auto* q = reinterpret_cast<const int8_t*>(b + 2);
  for (int j = 0; j < 32; ++j) y[j] = float(q[j]) * d;
}

// Q4_0 (18 bytes): d, 16 bytes of nibbles: low nibbles are elements 0–15, high 16–31; x = d·(q − 8).
void decode_q4_0(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  const uint8_t* q = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = float(int(q[j] & 0x0F) - 8) * d;
    y[j + 16] = float(int(q[j] >> 4) - 8) * d;
  }
}

// Q4_1 (20 bytes): d, m, nibbles as Q4_0; x = d·q + m.
void decode_q4_1(const uint8_t* b, float* y) {
  const float d = load_f16(b), m = load_f16(b + 2);
  const uint8_t* q = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = float(q[j] & 0x0F) * d + m;
    y[j + 16] = float(q[j] >> 4) * d + m;
  }
}

// Q5_0 (22 bytes): d, qh (32 fifth bits, little-endian), nibbles; x = d·(q − 16).
void decode_q5_0(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  uint32_t qh;
  std::memcpy(&qh, b + 2, 4);
  const uint8_t* q = b + 6;
  for (int j = 0; j < 16; ++j) {
    const int lo = int((q[j] & 0x0F) | (((qh >> j) & 1u) << 4));
    const int hi = int((q[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4));
    y[j] = float(lo - 16) * d;
    y[j + 16] = float(hi - 16) * d;
  }
}

// Q5_1 (24 bytes): d, m, qh, nibbles; x = d·q + m.
void decode_q5_1(const uint8_t* b, float* y) {
  const float d = load_f16(b), m = load_f16(b + 2);
  uint32_t qh;
  std::memcpy(&qh, b + 4, 4);
  const uint8_t* q = b + 8;
  for (int j = 0; j < 16; ++j) {
    const uint32_t lo = (q[j] & 0x0F) | (((qh >> j) & 1u) << 4);
    const uint32_t hi = (q[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4);
    y[j] = float(lo) * d + m;
    y[j + 16] = float(hi) * d + m;
  }
}

// Q2_K (84 bytes): scales[16] (low nibble scale, high nibble min), qs[64] (2-bit codes), d, dmin.
// Each half of 128 elements reads 32 code bytes at shifts 0, 2, 4, 6; each run of 16 has its
// own scale byte: x = (d·sc)·q − dmin·m.
void decode_q2_k(const uint8_t* b, float* y) {
  const uint8_t* scales = b;
  const uint8_t* qs = b + 16;
  const float d = load_f16(b + 80), dmin = load_f16(b + 82);
  int is = 0;
  for (int half = 0; half < 2; ++half) {
    const uint8_t* q = qs + 32 * half;
    for (int shift = 0; shift < 8; shift += 2)
      for (int part = 0; part < 2; ++part) {
        const uint8_t sc = scales[is++];
        const float dl = d * float(sc & 0xF), ml = dmin * float(sc >> 4);
        for (int l = 0; l < 16; ++l) *y++ = dl * float((q[l + 16 * part] >> shift) & 3) - ml;
      }
  }
}

// Q3_K (110 bytes): hmask[32] (third bits), qs[64] (2-bit codes), 12 bytes of 6-bit scales, d.
// x = (d·(sc − 32))·(q − (hmask bit ? 0 : 4)).
void decode_q3_k(const uint8_t* b, float* y) {
  const uint8_t* hm = b;
  const uint8_t* qs = b + 32;
  const uint8_t* sc = b + 96;
  const float d = load_f16(b + 108);
  int8_t scales[16];
  for (int i = 0; i < 16; ++i) {
    const int lo = i < 8 ? (sc[i] & 0x0F) : (sc[i - 8] >> 4);
    const int hi = (sc[8 + i % 4] >> (2 * (i / 4))) & 3;
    scales[i] = int8_t((lo | (hi << 4)) - 32);
  }
  int is = 0;
  uint8_t m = 1;
  for (int half = 0; half < 2; ++half) {
    const uint8_t* q = qs + 32 * half;
    for (int shift = 0; shift < 8; shift += 2, m = uint8_t(m << 1))
      for (int part = 0; part < 2; ++part) {
        const float dl = d * float(scales[is++]);
        for (int l = 0; l < 16; ++l) {
          const int k = l + 16 * part;
          *y++ = dl * float(int((q[k] >> shift) & 3) - ((hm[k] & m) ? 0 : 4));
        }
      }
  }
}

// The 6-bit scale and min of sub-block j of Q4_K/Q5_K (12 packed bytes).
inline void k_scale_min(int j, const uint8_t* s, int& sc, int& mn) {
  if (j < 4) {
    sc = s[j] & 63;
    mn = s[j + 4] & 63;
  } else {
    sc = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
    mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Q4_K (144 bytes): d, dmin, 12 scale bytes, qs[128]; 8 sub-blocks of 32, each 64 elements
// reading 32 bytes (low nibbles, then high): x = (d·sc)·q − dmin·m.
// Q5_K (176 bytes): the same with qh[32] before qs, bit j of qh[l] the fifth bit of sub-block j.
template <bool kFifthBit>
void decode_q45_k(const uint8_t* b, float* y) {
  const float d = load_f16(b), dmin = load_f16(b + 2);
  const uint8_t* s = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* q = b + (kFifthBit ? 48 : 16);
  for (int j = 0; j < 8; j += 2, q += 32) {
    int sc, mn;
    k_scale_min(j, s, sc, mn);
    const float d1 = d * float(sc), m1 = dmin * float(mn);
    k_scale_min(j + 1, s, sc, mn);
    const float d2 = d * float(sc), m2 = dmin * float(mn);
    for (int l = 0; l < 32; ++l) *y++ = d1 * float((q[l] & 0x0F) + (kFifthBit ? ((qh[l] >> j) & 1) << 4 : 0)) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * float((q[l] >> 4) + (kFifthBit ? ((qh[l] >> (j + 1)) & 1) << 4 : 0)) - m2;
  }
}

// Q6_K (210 bytes): ql[128] (low 4 bits), qh[64] (high 2 bits), scales int8[16], d.
// Each half of 128 is four runs of 32: run r takes the low (r < 2) or high nibbles of
// ql[32·(r mod 2) …], and bits 2r, 2r+1 of qh[0 … 32]; x = (d·sc)·(q − 32), one scale per 16.
void decode_q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const auto* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = load_f16(b + 208);
  for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8)
    for (int r = 0; r < 4; ++r, y += 32) {
      const uint8_t* lo = ql + 32 * (r & 1);
      const int nib = 4 * (r >> 1), hs = 2 * r;
      for (int g = 0; g < 2; ++g) {  // 16 values per scale
        const float dl = d * float(sc[2 * r + g]);
        for (int l = 16 * g; l < 16 * g + 16; ++l)
          y[l] = dl * float(int(((lo[l] >> nib) & 0xF) | (((qh[l] >> hs) & 3) << 4)) - 32);
      }
    }
}

// IQ4_NL (18 bytes): d, nibbles as Q4_0 indexing the non-linear code book; x = d·kv[q].
void decode_iq4_nl(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  const uint8_t* q = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = d * float(kIq4nlValues[q[j] & 0x0F]);
    y[j + 16] = d * float(kIq4nlValues[q[j] >> 4]);
  }
}

// IQ4_XS (136 bytes): d, scales_h u16 (2 bits per sub-block), scales_l[4] (nibbles), qs[128];
// 8 sub-blocks of 32 laid out as IQ4_NL blocks: x = (d·(sc − 32))·kv[q].
void decode_iq4_xs(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  uint16_t scales_h;
  std::memcpy(&scales_h, b + 2, 2);
  const uint8_t* scales_l = b + 4;
  const uint8_t* q = b + 8;
  for (int ib = 0; ib < 8; ++ib, q += 16, y += 32) {
    const int ls = ((scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((scales_h >> (2 * ib)) & 3) << 4);
    const float dl = d * float(ls - 32);
    for (int j = 0; j < 16; ++j) {
      y[j] = dl * float(kIq4nlValues[q[j] & 0xF]);
      y[j + 16] = dl * float(kIq4nlValues[q[j] >> 4]);
    }
  }
}

// f32 → bf16, round to nearest even, 16 at a time where the CPU converts (that path flushes f32
// denormals to zero, which f32_to_bf16 keeps; decoded weights of that size round to ±0 or the
// smallest bf16 denormals, a difference of < 1e-38).
void to_bf16(uint16_t* dst, const float* src, int64_t n) {
  int64_t i = 0;
#if defined(__AVX512BF16__) && defined(__AVX512VL__)
  for (; i + 16 <= n; i += 16) {
    const __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), reinterpret_cast<const __m256i&>(h));
  }
#endif
  for (; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
}

}  // namespace

BlockDecoder block_decoder(DType t) {
  switch (t) {
    case DType::Q8_0:
      return decode_q8_0;
    case DType::Q4_0:
      return decode_q4_0;
    case DType::Q4_1:
      return decode_q4_1;
    case DType::Q5_0:
      return decode_q5_0;
    case DType::Q5_1:
      return decode_q5_1;
    case DType::Q2_K:
      return decode_q2_k;
    case DType::Q3_K:
      return decode_q3_k;
    case DType::Q4_K:
      return decode_q45_k<false>;
    case DType::Q5_K:
      return decode_q45_k<true>;
    case DType::Q6_K:
      return decode_q6_k;
    case DType::IQ4_NL:
      return decode_iq4_nl;
    case DType::IQ4_XS:
      return decode_iq4_xs;
    default:
      return nullptr;
  }
}

void dequantize(float* dst, const void* src, DType t, int64_t n) {
  const int64_t block = quant_block(t);
  PEFT_CHECK(n % block == 0, "{}: {} elements is not a whole number of blocks of {}", quant_type_name(t), n, block);
  if (t == DType::NF4) return nf4_dequantize(dst, src, n, 0, n);
  const BlockDecoder decode = block_decoder(t);
  const size_t bytes = quant_nbytes(t, block);
  const auto* p = static_cast<const uint8_t*>(src);
  const int64_t blocks = n / block;
#pragma omp parallel for schedule(static) if (blocks > 4096)
  for (int64_t b = 0; b < blocks; ++b) decode(p + size_t(b) * bytes, dst + b * block);
}

void dequantize_rows(float* dst, const Tensor& W, int64_t r0, int64_t r1) {
  PEFT_CHECK(W.ndim == 2 && dtype_is_quantized(W.dtype) && 0 <= r0 && r0 <= r1 && r1 <= W.dim(0),
             "dequantize_rows [{}, {}) of a {} {} tensor", r0, r1, dtype_name(W.dtype), W.shape_str());
  const int64_t cols = W.dim(1);
  if (W.dtype == DType::NF4) return nf4_dequantize(dst, W.data, W.numel(), r0 * cols, r1 * cols);
  const int64_t block = quant_block(W.dtype);
  const size_t bytes = quant_nbytes(W.dtype, block), row_bytes = quant_row_bytes(W.dtype, cols);
  const BlockDecoder decode = block_decoder(W.dtype);
  const auto* p = static_cast<const uint8_t*>(W.data) + size_t(r0) * row_bytes;
  const int64_t blocks = (r1 - r0) * cols / block;
  for (int64_t b = 0; b < blocks; ++b) decode(p + size_t(b) * bytes, dst + b * block);
}

void dequantize_rows_bf16(uint16_t* dst, const Tensor& W, int64_t r0, int64_t r1) {
  const int64_t cols = W.dim(1);
  thread_local std::vector<float> row;  // one row at a time: stays in L1/L2
  if (int64_t(row.size()) < cols) row.resize(size_t(cols));
  for (int64_t r = r0; r < r1; ++r) {
    dequantize_rows(row.data(), W, r, r + 1);
    to_bf16(dst + (r - r0) * cols, row.data(), cols);
  }
}

}  // namespace peft
