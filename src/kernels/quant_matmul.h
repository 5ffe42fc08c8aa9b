// Products with a quantized weight matrix (src/quant/): the frozen base of every method.
//
// Numerics. Each weight is first dequantized exactly as ggml does (f32). Then
//   - prefill and training (M > kGemvMaxRows rows): panels of W's rows are dequantized into a
//     cache-sized bf16 buffer that feeds oneDNN's bf16 GEMM, with x (or dy) rounded to bf16 and
//     fp32 accumulation: the numerics of a bf16 base, one rounding of the dequantized weight;
//   - decoding (M ≤ kGemvMaxRows), Q8_0, Q4_0, Q4_K, Q6_K, IQ4_NL, IQ4_XS with AVX-512 VNNI: the
//     activations are quantized to 8 bits per 32 and multiplied with the integer codes, as
//     llama.cpp does (quant_dot.h states and bounds the error);
//   - decoding, the other types: each block is decoded to f32 in registers and multiplied with
//     the f32 activations, fp32 accumulation: exact dequantized-weight products.
// Either way every block of W is read once per call, whatever M.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace peft {

// y (M, N) = x (M, K) · deq(W)ᵀ + b;  W (N, K) quantized, b (N) or null.
void quant_linear_forward(float* y, const float* x, const Tensor& W, const float* b, int64_t M);
// dx (M, K) += dy (M, N) · deq(W).
void quant_linear_backward_input(float* dx, const float* dy, const Tensor& W, int64_t M);

}  // namespace peft
