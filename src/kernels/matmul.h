// Matrix products through oneDNN (fp32, or bf16 weights with fp32 accumulation); primitives cached per shape.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace peft {

// y (M, N) = x (M, K) · Wᵀ + b.  W (N, K) is nn.Linear's layout, F32 or BF16 (then x is
// rounded to bf16 and the product accumulates in fp32), or a quantized type (quant_matmul.h
// states the numerics); b (N) may be null; y is overwritten.
void linear_forward(float* y, const float* x, const Tensor& W, const float* b, int64_t M);

// dx (M, K) += dy (M, N) · W (N, K).  (y = x Wᵀ ⇒ ∂L/∂x = ∂L/∂y · W.)
void linear_backward_input(float* dx, const float* dy, const Tensor& W, int64_t M);

// dW (N, K) += dyᵀ (N, M) · x (M, K);  db (N) += Σ_m dy[m]  (db may be null).
// Only for trainable fp32 matrices (adapters); the frozen base never gets a weight gradient.
void linear_backward_weight(float* dW, float* db, const float* dy, const float* x, int64_t M, int64_t N, int64_t K);

// General fp32 GEMM on row-major operands:
// C (M, N) = op(A) · op(B) (+ C when accumulate), op(A) (M, K), op(B) (K, N);
// trans_a means A is stored (K, M), trans_b means B is stored (N, K).
struct GemmShape {
  int64_t M = 0, N = 0, K = 0;
  bool trans_a = false;
  bool trans_b = false;
  bool accumulate = false;
};
void gemm_f32(float* C, const float* A, const float* B, const GemmShape& shape);

// The same product on bf16 operands with explicit leading dimensions (lda, ldb, ldc in
// elements) and fp32 C: for callers that build their bf16 operands themselves (quant_matmul).
void gemm_bf16(float* C, int64_t ldc, const uint16_t* A, int64_t lda, const uint16_t* B, int64_t ldb,
               const GemmShape& shape);

}  // namespace peft
