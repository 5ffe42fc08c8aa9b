// Task head forward and loss.
#include "model/task_head_run.h"

#include <cmath>
#include <cstring>

#include "core/check.h"
#include "kernels/activations.h"
#include "kernels/matmul.h"

namespace peft {

int64_t task_head_rows(const Model& m, int64_t B, int64_t T) { return m.task.task == TaskType::TokenCls ? B * T : B; }

void task_head_forward(const Model& m, const float* x, int64_t B, int64_t T, float* logits,
                       std::vector<std::vector<float>>* acts) {
  PEFT_CHECK(!m.head.empty(), "the model has no task head");
  const int64_t C = m.config.n_embd, rows = task_head_rows(m, B, T);
  std::vector<float> in(size_t(rows * C));
  if (m.task.task == TaskType::SeqCls) {
    for (int64_t b = 0; b < B; ++b) std::memcpy(&in[size_t(b * C)], x + b * T * C, size_t(C) * sizeof(float));
  } else {
    std::memcpy(in.data(), x, size_t(rows * C) * sizeof(float));
  }
  if (acts) acts->clear();
  for (size_t i = 0; i < m.head.size(); ++i) {
    const Model::HeadLayer& layer = m.head[i];
    const bool last = i + 1 == m.head.size();
    std::vector<float> out(last ? 0 : size_t(rows * layer.spec.out));
    float* y = last ? logits : out.data();
    linear_forward(y, in.data(), layer.lin.w, layer.lin.has_bias() ? layer.lin.b.f32() : nullptr, rows);
    activation_forward(layer.spec.act, y, y, rows * layer.spec.out);
    if (acts) acts->push_back(std::move(in));
    if (!last) in = std::move(out);
  }
}

double task_loss(const TaskSpec& task, const float* logits, const float* labels, int64_t rows, float* dlogits,
                 float grad_scale) {
  const int64_t K = task.num_labels;
  if (dlogits) std::memset(dlogits, 0, size_t(rows * K) * sizeof(float));
  double total = 0;
  if (task.problem == ProblemType::SingleLabel) {
    int64_t counted = 0;
    for (int64_t r = 0; r < rows; ++r) counted += labels[r] != -100.f;
    if (counted == 0) return 0;
    for (int64_t r = 0; r < rows; ++r) {
      if (labels[r] == -100.f) continue;
      const int64_t y = int64_t(labels[r]);
      PEFT_CHECK(y >= 0 && y < K && double(y) == double(labels[r]), "label {} outside [0, {})", labels[r], K);
      const float* z = logits + r * K;
      double mx = z[0];
      for (int64_t k = 1; k < K; ++k) mx = std::max(mx, double(z[k]));
      double sum = 0;
      for (int64_t k = 0; k < K; ++k) sum += std::exp(double(z[k]) - mx);
      const double lse = mx + std::log(sum);
      total += lse - double(z[y]);
      if (dlogits)  // ∂/∂z_k = (softmax_k − [k = y]) / counted
        for (int64_t k = 0; k < K; ++k)
          dlogits[r * K + k] =
              float((std::exp(double(z[k]) - lse) - (k == y ? 1.0 : 0.0)) / double(counted) * grad_scale);
    }
    return total / double(counted);
  }
  const double n = double(rows * K);
  for (int64_t i = 0; i < rows * K; ++i) {
    const double z = logits[i], y = labels[i];
    if (task.problem == ProblemType::Regression) {
      total += (z - y) * (z - y);
      if (dlogits) dlogits[i] = float(2.0 * (z - y) / n * grad_scale);
    } else {  // BCE with logits, the stable form max(z, 0) − z·y + log(1 + e^−|z|)
      total += std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::fabs(z)));
      if (dlogits) dlogits[i] = float((1.0 / (1.0 + std::exp(-z)) - y) / n * grad_scale);
    }
  }
  return total / n;
}

}  // namespace peft
