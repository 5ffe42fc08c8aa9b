// Decoding's integer dot products, as llama.cpp computes them: the activations are quantized
// to 8 bits and multiplied with the weights' integer codes by AVX-512 VNNI (u8 × s8 → s32).
//
// Numerics. Activations: blocks of 32 with d_b = max|x_b| / 127 and q = round(x / d_b), so each
// activation moves by at most d_b / 2 (ggml's Q8_K uses one scale per 256, coarser). Integer
// sums are exact; the block scales multiply in f32. Against the exact product of the decoded
// weights: |y − ŷ| ≤ Σ_k |w_k| · d_b(k) / 2 (+ f32 rounding), which the tests check.
#pragma once
#include <cstdint>
#include <vector>

#include "core/dtype.h"

namespace peft {

struct Int8Activations {
  int64_t K = 0;
  std::vector<float> scale;    // (K/32) d_b
  std::vector<int8_t> q;       // (K)
  std::vector<int32_t> sum16;  // (K/16) Σ q over each 16 (the offsets' and mins' terms)
  std::vector<float> xsum16;   // (K/16) d_b · sum16: the quantized activations' sums
};

// x (K), K a multiple of 32.
void quantize_activations(const float* x, int64_t K, Int8Activations& a);

// Whether dot_int8 serves `t` on this CPU (built with AVX-512 VNNI): Q8_0, Q4_0, Q4_K, Q6_K,
// IQ4_NL, IQ4_XS.
bool has_int8_dot(DType t);

// Σ_k deq(w)_k · d_b q_k over one row of W stored in `t` (row: its first block).
float dot_int8(DType t, const uint8_t* row, const Int8Activations& a);

}  // namespace peft
