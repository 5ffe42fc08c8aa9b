// QLoRA's NormalFloat-4 with double-quantized absmaxes, as bitsandbytes defines it
// (quantize_4bit(quant_type="nf4", blocksize=64, compress_statistics=True)).
//
// The tensor is flattened into blocks of 64; block b has absmax a_b = max|x| and codes
// q = the nearest NF4 value to x / a_b. The absmaxes are double-quantized: offset = mean(a),
// then a − offset in groups of 256 with absmax a2_g, coded as the nearest entry of
// bitsandbytes' signed dynamic 8-bit map to (a − offset) / a2_g. Dequantization:
//   a_b = dyn[c_b]·a2_g + offset,   x = nf4[q]·a_b            (all f32)
// Layout of n elements (nb = n/64 blocks, ng = ⌈nb/256⌉ groups), one region after another:
//   codes (n/2 bytes, two per byte, the first in the high nibble), c (nb bytes),
//   a2 (ng f32), offset (one f32).
#pragma once
#include <cstddef>
#include <cstdint>

namespace peft {

constexpr int64_t kNf4Block = 64;
constexpr int64_t kNf4GroupBlocks = 256;

// The 16 NF4 values (bitsandbytes' table, ascending from −1 to 1 with an exact 0).
const float* nf4_values();
// bitsandbytes' create_dynamic_map(signed=True): 256 ascending f32 values in [−1, 1] (torch's
// own linspace may differ in the last bit of a few entries, by its SIMD width).
const float* nf4_dynamic_map();

size_t nf4_nbytes(int64_t n);
void nf4_quantize(void* dst, const float* src, int64_t n);
// Elements [e0, e1) (whole blocks) of an NF4 tensor of n elements into dst (e1 − e0).
void nf4_dequantize(float* dst, const void* src, int64_t n, int64_t e0, int64_t e1);
// The first block whose absmax is not finite (a damaged group scale or offset); -1 if none.
int64_t nf4_first_bad_block(const void* src, int64_t n);

}  // namespace peft
