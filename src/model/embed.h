// The decoder's ends: token (+ position) embedding in front, final norm + LM head behind.
#pragma once
#include <cstdint>

#include "model/model.h"

namespace peft {

// x (N, C) = tok_embd[ids] (+ pos_embd[positions + offset] for learned positions).
// ids must already be validated to lie in [0, vocab).
void embed_forward(const Model& m, const int32_t* ids, const int32_t* positions, int64_t N,
                   float* x);

// out (N, C) = final_norm(x); mean/rstd (N) saved for the backward.
void final_norm_forward(const Model& m, float* out, float* mean, float* rstd, const float* x,
                        int64_t N);
// dx (N, C) += ∂L/∂x given dout (N, C).
void final_norm_backward(const Model& m, float* dx, const float* dout, const float* x,
                         const float* mean, const float* rstd, int64_t N);

// logits (N, V) = h (N, C) · lm_headᵀ (+ bias).
void lm_head_forward(const Model& m, float* logits, const float* h, int64_t N);

}  // namespace peft
