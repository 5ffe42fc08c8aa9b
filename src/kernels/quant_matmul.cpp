// Quantized-weight products: bf16 panels into oneDNN for many rows, fused decode-and-dot for few.
#include "kernels/quant_matmul.h"

#include <algorithm>
#include <vector>

#include "core/check.h"
#include "kernels/gemv.h"
#include "kernels/matmul.h"
#include "kernels/quant_dot.h"
#include "kernels/vec_math.h"
#include "quant/ggml_blocks.h"
#include "quant/quant.h"

namespace peft {

namespace {

using vec::kW;
using vec::vf;

// Rows of W per dequantized panel: about 4 MiB of bf16, a multiple of 16. oneDNN packs the
// panel again for its kernel, so the panel need not fit L2; what costs is the number of GEMM
// calls (1 MiB panels made Llama-3.2-1B's 64-token prompt 2x slower than 4 MiB ones).
int64_t panel_rows(int64_t N, int64_t K) {
  const int64_t p = std::max<int64_t>(16, (int64_t(1) << 21) / std::max<int64_t>(K, 1) / 16 * 16);
  return std::min(N, p);
}

// n values of src rounded to bf16 into a per-thread buffer that only grows.
const uint16_t* bf16_copy(const float* src, int64_t n) {
  thread_local std::vector<uint16_t> buf;
  if (int64_t(buf.size()) < n) buf.resize(size_t(n));
  convert_from_f32(buf.data(), DType::BF16, src, size_t(n));
  return buf.data();
}

// Rows [n0, n0 + rows) of W as bf16 (rows, K), the rows split over threads.
const uint16_t* dequantized_panel(const Tensor& W, int64_t n0, int64_t rows) {
  const int64_t K = W.dim(1);
  thread_local std::vector<uint16_t> panel;
  if (int64_t(panel.size()) < rows * K) panel.resize(size_t(rows * K));
  uint16_t* p = panel.data();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) dequantize_rows_bf16(p + r * K, W, n0 + r, n0 + r + 1);
  return p;
}

// Few rows, types with an integer kernel: x quantized to 8 bits once, each row of W read once
// for all rows of x (quant_dot.h).
void gemv_int8(float* y, const float* x, const Tensor& W, const float* b, int64_t M) {
  const int64_t N = W.dim(0), K = W.dim(1);
  thread_local std::vector<Int8Activations> acts;
  if (int64_t(acts.size()) < M) acts.resize(size_t(M));
  for (int64_t m = 0; m < M; ++m) quantize_activations(x + m * K, K, acts[size_t(m)]);
  const Int8Activations* a = acts.data();
  const size_t row_bytes = quant_row_bytes(W.dtype, K);
  const auto* base = static_cast<const uint8_t*>(W.data);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      y[m * N + n] = dot_int8(W.dtype, base + size_t(n) * row_bytes, a[m]) + (b ? b[n] : 0.f);
}

// Few rows, other types: each row of W decoded block by block (f32, in L1) and dotted with
// every row of x (exact decoded weights, f32 activations).
template <int64_t M>
void gemv_quant(float* y, const float* x, const Tensor& W, const float* b) {
  const int64_t N = W.dim(0), K = W.dim(1);
  const BlockDecoder decode = block_decoder(W.dtype);
  const int64_t block = quant_block(W.dtype);
  const size_t block_bytes = quant_nbytes(W.dtype, block), row_bytes = quant_row_bytes(W.dtype, K);
  const auto* base = static_cast<const uint8_t*>(W.data);
#pragma omp parallel
  {
    thread_local std::vector<float> row;  // NF4: the whole row (no per-block decoder)
    if (!decode && int64_t(row.size()) < K) row.resize(size_t(K));
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; ++n) {
      vf acc[M] = {};
      alignas(64) float tmp[256];
      auto dot_block = [&](const float* w, int64_t k0, int64_t len) {
        for (int64_t k = 0; k < len; k += kW) {
          const vf wv = vec::load(w + k);
          for (int64_t m = 0; m < M; ++m) acc[m] += vec::load(x + m * K + k0 + k) * wv;
        }
      };
      if (decode) {
        const uint8_t* r = base + size_t(n) * row_bytes;
        for (int64_t k0 = 0; k0 < K; k0 += block) {
          decode(r + size_t(k0 / block) * block_bytes, tmp);
          dot_block(tmp, k0, block);
        }
      } else {
        dequantize_rows(row.data(), W, n, n + 1);
        dot_block(row.data(), 0, K);
      }
      for (int64_t m = 0; m < M; ++m) y[m * N + n] = vec::hsum(acc[m]) + (b ? b[n] : 0.f);
    }
  }
}

}  // namespace

void quant_linear_forward(float* y, const float* x, const Tensor& W, const float* b, int64_t M) {
  PEFT_CHECK(W.ndim == 2 && dtype_is_quantized(W.dtype), "quant_linear_forward: W is {} {}", dtype_name(W.dtype),
             W.shape_str());
  const int64_t N = W.dim(0), K = W.dim(1);
  if (M == 0 || N == 0) return;
  if (M <= kGemvMaxRows && has_int8_dot(W.dtype)) return gemv_int8(y, x, W, b, M);
  switch (M) {  // blocks are 32, 64 or 256 wide: whole 16-lane vectors
    case 1:
      return gemv_quant<1>(y, x, W, b);
    case 2:
      return gemv_quant<2>(y, x, W, b);
    case 3:
      return gemv_quant<3>(y, x, W, b);
    case 4:
      return gemv_quant<4>(y, x, W, b);
    default:
      break;
  }
  static_assert(kGemvMaxRows == 4, "one gemv case per row count");
  const uint16_t* xb = bf16_copy(x, M * K);
  const int64_t P = panel_rows(N, K);
  for (int64_t n0 = 0; n0 < N; n0 += P) {
    const int64_t rows = std::min(P, N - n0);
    const uint16_t* panel = dequantized_panel(W, n0, rows);
    // y[:, n0:n0+rows] (M, rows) = xb (M, K) · panelᵀ, the panel (rows, K) read transposed.
    gemm_bf16(y + n0, N, xb, K, panel, K, GemmShape{M, rows, K, false, true, false});
  }
  if (b)
#pragma omp parallel for schedule(static) if (M * N > 65536)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) y[m * N + n] += b[n];
}

void quant_linear_backward_input(float* dx, const float* dy, const Tensor& W, int64_t M) {
  PEFT_CHECK(W.ndim == 2 && dtype_is_quantized(W.dtype), "quant_linear_backward_input: W is {} {}", dtype_name(W.dtype),
             W.shape_str());
  const int64_t N = W.dim(0), K = W.dim(1);
  if (M == 0 || N == 0) return;
  const uint16_t* dyb = bf16_copy(dy, M * N);
  const int64_t P = panel_rows(N, K);
  for (int64_t n0 = 0; n0 < N; n0 += P) {
    const int64_t rows = std::min(P, N - n0);
    const uint16_t* panel = dequantized_panel(W, n0, rows);
    // dx (M, K) += dy[:, n0:n0+rows] (M, rows) · panel (rows, K).
    gemm_bf16(dx, K, dyb + n0, N, panel, K, GemmShape{M, K, rows, false, false, true});
  }
}

}  // namespace peft
