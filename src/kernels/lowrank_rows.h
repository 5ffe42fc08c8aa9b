// A low-rank update of a few rows, one row at a time: the decode step of a server, where each
// adapter's LoRA touches a handful of rows (Punica's BGMV case).
#pragma once
#include <cstdint>

namespace peft {

// Rows at most this many take lowrank_rows_forward (LoraAdapter's choice).
constexpr int64_t kLowrankRowsMax = 16;

// u (N, r) = s · x Aᵀ;  y (N, out) += u Bᵀ.  x (N, in), A (r, in), B (out, r), all f32.
// Each row's arithmetic is fixed (16-lane partial sums, then their sum), whatever N is: a
// row computed among others equals the row computed alone, bit for bit — so a request in a
// mixed batch decodes exactly as it does alone. For few rows it also skips a GEMM call's setup,
// which dominates at this size.
void lowrank_rows_forward(float* y, float* u, const float* x, const float* A, const float* B, float s, int64_t N,
                          int64_t in, int64_t r, int64_t out);

}  // namespace peft
