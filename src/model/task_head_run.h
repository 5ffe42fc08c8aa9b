// The task head's forward on the encoder's output, and the loss transformers' classifiers use.
#pragma once
#include <cstdint>
#include <vector>

#include "model/model.h"

namespace peft {

// Rows the head sees: SeqCls one per batch item (its position 0: BERT's [CLS], RoBERTa's
// <s>), TokenCls every position.
int64_t task_head_rows(const Model& m, int64_t B, int64_t T);

// logits (rows, num_labels) from x (B, T, C), the last block's output. `acts`, when given,
// receives each layer's input (rows, in) for a backward.
void task_head_forward(const Model& m, const float* x, int64_t B, int64_t T, float* logits,
                       std::vector<std::vector<float>>* acts = nullptr);

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
