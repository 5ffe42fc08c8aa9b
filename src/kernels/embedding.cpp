// Embedding row gather (fp32, bf16 or quantized table) and its race-free scatter-add backward.
#include "kernels/embedding.h"

#include <algorithm>
#include <cstring>

#include "quant/quant.h"

namespace peft {

void embedding_forward(float* out, const int32_t* ids, const Tensor& table, int64_t N) {
  PEFT_CHECK(table.ndim == 2, "embedding table must be 2-D, got {}", table.shape_str());
  PEFT_CHECK(table.stride[1] == 1 || table.shape[1] == 1, "embedding rows must be contiguous");
  const int64_t V = table.shape[0], C = table.shape[1], ld = table.stride[0];
  const size_t esize = dtype_size(table.dtype);
  for (int64_t n = 0; n < N; ++n)
    PEFT_CHECK(ids[n] >= 0 && ids[n] < V, "token id {} at row {} outside [0, {})", ids[n], n, V);
#pragma omp parallel for schedule(static) if (N * C > 65536)
  for (int64_t n = 0; n < N; ++n) {
    if (dtype_is_quantized(table.dtype)) {  // a quantized table: the row's blocks dequantized
      dequantize_rows(out + n * C, table, ids[n], ids[n] + 1);
      continue;
    }
    const char* row = static_cast<const char*>(table.data) + size_t(ids[n] * ld) * esize;
    if (table.dtype == DType::F32)
      std::memcpy(out + n * C, row, size_t(C) * sizeof(float));
    else
      convert_to_f32(out + n * C, row, table.dtype, size_t(C));
  }
}

// out[n] = table[ids[n]] ⇒ ∂L/∂table[v] = Σ_{n: ids[n] = v} dout[n].  Repeated ids hit the same
// row, so threads split the columns instead of the rows: no races, thread-count independent.
void embedding_backward(float* dtable, const float* dout, const int32_t* ids, int64_t N, int64_t C) {
  for (int64_t n = 0; n < N; ++n) PEFT_CHECK(ids[n] >= 0, "token id {} at row {}", ids[n], n);
  constexpr int64_t kBlock = 256;
  const int64_t nblocks = (C + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (N * C > 65536)
  for (int64_t blk = 0; blk < nblocks; ++blk) {
    const int64_t c0 = blk * kBlock, c1 = std::min(C, c0 + kBlock);
    for (int64_t n = 0; n < N; ++n) {
      float* dst = dtable + int64_t(ids[n]) * C;
      const float* src = dout + n * C;
      for (int64_t c = c0; c < c1; ++c) dst[c] += src[c];
    }
  }
}

}  // namespace peft
