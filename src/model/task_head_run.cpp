// Task head forward and loss.
#include "model/task_head_run.h"

#include <cmath>
#include <cstring>

#include "core/check.h"
#include "kernels/activations.h"
#include "kernels/matmul.h"

namespace peft {

int64_t task_head_rows(const Model& m, int64_t B, int64_t T) { return m.task.task == TaskType::TokenCls ? B * T : B; }

namespace {
// Layer i's weight (out, in) and bias as F32 views: the trainable copy or the model's.
struct HeadWeights {
  Tensor w;
  const float* b;
  const HeadLayerParams* train;  // null: frozen
};
HeadWeights head_weights(const Model& m, const SiteHooks* hooks, size_t i) {
  const Model::HeadLayer& layer = m.head[i];
  const HeadLayerParams* p = hooks ? hooks->head_layer(int64_t(i)) : nullptr;
  if (p) return {Tensor(p->w, DType::F32, {layer.spec.out, layer.spec.in}), p->b, p};
  return {layer.lin.w, layer.lin.has_bias() ? layer.lin.b.f32() : nullptr, nullptr};
}
}  // namespace

void task_head_forward(const Model& m, const SiteHooks* hooks, const float* x, int64_t B, int64_t T, float* logits,
                       TaskHeadActs* acts) {
  PEFT_CHECK(!m.head.empty(), "the model has no task head");
  const int64_t C = m.config.n_embd, rows = task_head_rows(m, B, T);
  std::vector<float> in(size_t(rows * C));
  if (m.task.task == TaskType::SeqCls) {
    for (int64_t b = 0; b < B; ++b) std::memcpy(&in[size_t(b * C)], x + b * T * C, size_t(C) * sizeof(float));
  } else {
    std::memcpy(in.data(), x, size_t(rows * C) * sizeof(float));
  }
  if (acts) {
    acts->in.clear();
    acts->pre.clear();
  }
  for (size_t i = 0; i < m.head.size(); ++i) {
    const int64_t out = m.head[i].spec.out;
    const HeadWeights hw = head_weights(m, hooks, i);
    std::vector<float> y(size_t(rows * out));
    linear_forward(y.data(), in.data(), hw.w, hw.b, rows);
    if (acts) {
      acts->in.push_back(in);
      acts->pre.push_back(y);
    }
    activation_forward(m.head[i].spec.act, y.data(), y.data(), rows * out);
    in = std::move(y);
  }
  std::memcpy(logits, in.data(), in.size() * sizeof(float));
}

void task_head_backward(const Model& m, const SiteHooks* hooks, const TaskHeadActs& acts, const float* dlogits,
                        int64_t B, int64_t T, float* d_x) {
  const int64_t C = m.config.n_embd, rows = task_head_rows(m, B, T);
  PEFT_CHECK(acts.in.size() == m.head.size(), "task_head_backward needs the forward's activations");
  std::vector<float> dy(dlogits, dlogits + rows * m.task.num_labels);
  for (size_t i = m.head.size(); i-- > 0;) {
    const HeadLayerSpec& spec = m.head[i].spec;
    const HeadWeights hw = head_weights(m, hooks, i);
    std::vector<float> dp(dy.size(), 0.f);
    activation_backward(spec.act, dp.data(), dy.data(), acts.pre[i].data(), rows * spec.out);
    if (hw.train)
      linear_backward_weight(hw.train->dw, hw.train->db, dp.data(), acts.in[i].data(), rows, spec.out, spec.in);
    dy.assign(size_t(rows * spec.in), 0.f);
    linear_backward_input(dy.data(), dp.data(), hw.w, rows);
  }
  if (m.task.task == TaskType::SeqCls) {
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = 0; c < C; ++c) d_x[b * T * C + c] += dy[size_t(b * C + c)];
  } else {
    for (int64_t i = 0; i < rows * C; ++i) d_x[i] += dy[size_t(i)];
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
