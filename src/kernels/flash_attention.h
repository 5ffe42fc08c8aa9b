// Causal attention for training without the (T × Tk) probability matrix: the forward keeps
// each query row's log-sum-exp, the backward recomputes the probabilities from it.
#pragma once
#include <cstdint>

#include "kernels/attention.h"

namespace peft {

// q (B, T, H, hd); k, v (B, kv_rows, Hkv, hd); out (B, T, H, hd) overwritten;
// lse (B, H, T) = log Σ_j exp(s_j) of every query row (null when no backward follows).
void flash_attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                             const AttentionShape& s);

// dq (B, T, H, hd), dk, dv (B, kv_rows, Hkv, hd) += gradients given dout (B, T, H, hd) and the
// forward's lse: P = exp(S − lse) is recomputed row by row, then
//   dv += Pᵀ dout;  dP = dout vᵀ;  dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale;  dq += dS k;  dk += dSᵀ q.
void flash_attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                              const float* v, const float* lse, const AttentionShape& s);

}  // namespace peft
