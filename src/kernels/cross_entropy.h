// Softmax cross-entropy over the vocabulary, row-wise and fused with the LM head in chunks.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace peft {

constexpr int32_t kIgnoreIndex = -100;

// For each row n of logits (N, V): losses[n] = logsumexp(l_n) − l_n[targets[n]];
// rows with targets[n] < 0 get loss 0 and zero gradient. If dlogits (N, V) is non-null it is
// overwritten with (softmax(l_n) − onehot) · grad_scale (dlogits may alias logits).
void cross_entropy_forward_backward(float* losses, float* dlogits, const float* logits, const int32_t* targets,
                                    int64_t N, int64_t V, float grad_scale);

// In place on logits (n): l → cap · tanh(l / cap) (Gemma 2's final soft-capping). With dcap
// (n) also ∂capped/∂l = 1 − tanh².
void softcap_forward(float* logits, float* dcap, int64_t n, float cap);

// Loss of hidden states h (N, C) under the head W (V, C) (+ bias (V) or null) without
// materialising (N, V): rows are processed `chunk` at a time through `scratch` (chunk, V).
// Logits are soft-capped first when softcap > 0. Returns Σ_n loss_n over rows with
// targets[n] >= 0 (double). If dh (N, C) is non-null, dh += ∂(grad_scale · Σ loss)/∂h.
double lm_head_cross_entropy(float* dh, const float* h, const Tensor& W, const float* bias, const int32_t* targets,
                             int64_t N, float grad_scale, float* scratch, int64_t chunk, float softcap = 0.f);

}  // namespace peft
