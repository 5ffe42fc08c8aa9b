// The task head's forward on the encoder's output, and the loss transformers' classifiers use.
#pragma once
#include <cstdint>
#include <vector>

#include "model/model.h"
#include "model/site.h"

namespace peft {

// Rows the head sees: SeqCls one per batch item (its position 0: BERT's [CLS], RoBERTa's
// <s>), TokenCls every position.
int64_t task_head_rows(const Model& m, int64_t B, int64_t T);

// What the head's backward needs from its forward: each layer's input and pre-activation.
struct TaskHeadActs {
  std::vector<std::vector<float>> in;   // per layer (rows, in)
  std::vector<std::vector<float>> pre;  // per layer (rows, out)
};

// logits (rows, num_labels) from x (B, T, C), the last block's output. Layer i uses the hooks'
// trainable copy (SiteHooks::head_layer) when they have one, else the model's own weights.
// `acts`, when given, keeps what task_head_backward needs.
void task_head_forward(const Model& m, const SiteHooks* hooks, const float* x, int64_t B, int64_t T, float* logits,
                       TaskHeadActs* acts = nullptr);

// Given dlogits (rows, num_labels): d_x (B, T, C) += ∂L/∂x (at position 0 of each row for a
// sequence head), and the trainable copies' dw, db += their gradients:
//   y = act(p), p = x Wᵀ + b:  ∂p = act'(p) ⊙ ∂y;  ∂W += ∂pᵀ x;  ∂b += Σ ∂p;  ∂x = ∂p W.
void task_head_backward(const Model& m, const SiteHooks* hooks, const TaskHeadActs& acts, const float* dlogits,
                        int64_t B, int64_t T, float* d_x);

// transformers' loss for the task over `rows` predictions, returned as a double:
//   SingleLabel: mean cross-entropy; labels (rows) class ids, −100 ignored (token tasks);
//   MultiLabel:  mean binary cross-entropy with logits over rows · num_labels; labels 0/1;
//   Regression:  mean squared error over rows · num_labels (one label: MSE of the squeezed
//                logits, the same mean).
// dlogits (rows, num_labels), when given, receives ∂loss/∂logits times `grad_scale`.
// Single-label labels outside [0, num_labels) other than −100 are a programming error here;
// readers check them with file and line.
double task_loss(const TaskSpec& task, const float* logits, const float* labels, int64_t rows, float* dlogits,
                 float grad_scale = 1.f);

}  // namespace peft
