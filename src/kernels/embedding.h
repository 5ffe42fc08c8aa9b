// Token (or position) embedding lookup and its scatter-add backward.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace peft {

// out (N, C) = table[ids[n]] (table (V, C), F32, BF16 or quantized); ids must lie in [0, V).
void embedding_forward(float* out, const int32_t* ids, const Tensor& table, int64_t N);
// dtable (V, C) += Σ over n with ids[n] = v of dout[n].
void embedding_backward(float* dtable, const float* dout, const int32_t* ids, int64_t N, int64_t C);

}  // namespace peft
