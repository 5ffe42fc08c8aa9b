// Few-row products (decoding): memory-bound, so each weight row is read once for all rows of
// x, straight from the bf16 or f32 tensor, without a oneDNN call per token.
#pragma once
#include <cstdint>

namespace peft {

// Rows of x up to which the gemv kernels beat a oneDNN matmul (decode steps, small batches).
inline constexpr int64_t kGemvMaxRows = 4;

// y (M, N) = bf16(x) (M, K) · Wᵀ + b, W (N, K) bf16 with row stride ldw, b (N) or null,
// fp32 accumulation; M ≤ kGemvMaxRows. x is rounded to bf16 first, as the oneDNN path does.
void gemv_bf16(float* y, const float* x, const uint16_t* W, int64_t ldw, const float* b, int64_t M, int64_t N,
               int64_t K);

// y (M, N) = x (M, K) · Wᵀ + b, W (N, K) f32 with row stride ldw; M ≤ kGemvMaxRows.
void gemv_f32(float* y, const float* x, const float* W, int64_t ldw, const float* b, int64_t M, int64_t N, int64_t K);

}  // namespace peft
