// Symmetric-KL consistency between two passes' logits (AdaMix, R-Drop style), with stop-gradients.
#pragma once
#include <cstdint>

namespace peft {

// For the rows n of logits l1, l2 (N, V) with targets[n] >= 0 (positions that carry a loss),
// with p_k = softmax(l_k[n]):
//   loss = (1/count) Σ_n ½ [KL(p1 ‖ sg p2) + KL(p2 ‖ sg p1)],  count = number of such rows;
// returns loss (0 when count is 0). If d1/d2 (N, V) are non-null they are overwritten with
// grad_scale · ∂loss/∂l1 (only through the first argument of KL(p1‖·)) and
// grad_scale · ∂loss/∂l2 (only through KL(p2‖·)):
//   ∂/∂l1 = 1/(2·count) · p1 ⊙ (log p1 − log p2 − KL(p1‖p2)), symmetric for l2; rows
// without a target get zero. d1 may alias l1 and d2 l2 (rows are processed in place).
double consistency_kl_forward_backward(float* d1, float* d2, const float* l1, const float* l2, const int32_t* targets,
                                       int64_t N, int64_t V, float grad_scale);

}  // namespace peft
