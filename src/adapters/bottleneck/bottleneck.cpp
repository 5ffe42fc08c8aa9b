// Bottleneck adapter forward/backward on the flat parameter store (mh, output and parallel types).
#include "adapters/bottleneck/bottleneck.h"

#include "adapters/dropout.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/rng.h"
#include "kernels/matmul.h"

namespace peft {

namespace {
Activation activation_of(const BottleneckAct& a) { return a.tanh ? Activation::Tanh : a.act; }
}  // namespace

Result<std::unique_ptr<BottleneckAdapter>> BottleneckAdapter::create(const Model& model, const BottleneckConfig& config,
                                                                     uint64_t seed) {
  const std::string where = "bottleneck target_modules";
  std::unique_ptr<BottleneckAdapter> a(new BottleneckAdapter(model, config));
  const int64_t b = config.bottleneck_size;
  PEFT_TRY(a->modules_.build(model, config.targets, where, [&](const SiteRef& s, const Linear& lin) -> Result<Module> {
    const Linear* l = &lin;
    Module m;
    PEFT_ASSIGN_OR_RETURN(m.type, bottleneck_type_of(config, s, where));
    m.n_in = m.type == BottleneckType::Output ? l->out() : l->in();
    m.n_out = m.type == BottleneckType::Mh ? l->in() : l->out();
    const std::string prefix = "base_model.model." + s.path;
    if (config.learned) m.scale = a->params_.add(prefix + ".adapter_scaling", {1});
    m.down = a->params_.add(prefix + ".adapter_down.weight", {b, m.n_in});
    m.up = a->params_.add(prefix + ".adapter_up.weight", {m.n_out, b});
    a->max_width_ = std::max({a->max_width_, m.n_in, m.n_out});
    return m;
  }));
  PEFT_TRY(a->params_.finalize(model));
  Rng rng(seed);
  for (const Module& m : a->modules_) {
    float* D = a->params_[m.down].value.f32();
    float* U = a->params_[m.up].value.f32();
    if (m.scale != size_t(-1)) a->params_[m.scale].value.f32()[0] = 1.f;  // torch.ones(1)
    if (config.init_weights == "bert") {                                  // init_bert_weights: N(0, 0.02) on both
      for (int64_t i = 0; i < b * m.n_in; ++i) D[i] = 0.02f * rng.normal();
      for (int64_t i = 0; i < m.n_out * b; ++i) U[i] = 0.02f * rng.normal();
    } else {  // mam_adapter: kaiming_uniform_(a=√5) → bound 1/√fan_in on down; up zero
      const float bound = 1.0f / std::sqrt(float(m.n_in));
      for (int64_t i = 0; i < b * m.n_in; ++i) D[i] = (2.f * rng.uniform() - 1.f) * bound;
    }
  }
  return a;
}

void BottleneckAdapter::reserve(int64_t max_tokens) {
  if (max_tokens <= capacity_) return;
  const int64_t b = config_.bottleneck_size;
  const size_t nb = Arena::bytes_for(DType::F32, {max_tokens, b});
  const size_t wide = Arena::bytes_for(DType::F32, {max_tokens, max_width_});
  size_t bytes = 3 * wide + 3 * nb;
  for (const Module& m : modules_) {
    bytes += 2 * nb;
    if (m.type == BottleneckType::Output) bytes += Arena::bytes_for(DType::F32, {max_tokens, m.n_in});
  }
  acts_.reserve(bytes);
  wide_ = acts_.alloc_f32({max_tokens, max_width_}).f32();
  zd_ = acts_.alloc_f32({max_tokens, max_width_}).f32();
  dzd_ = acts_.alloc_f32({max_tokens, max_width_}).f32();
  sa_ = acts_.alloc_f32({max_tokens, b}).f32();
  g_ = acts_.alloc_f32({max_tokens, b}).f32();
  gh_ = acts_.alloc_f32({max_tokens, b}).f32();
  for (Module& m : modules_) {
    m.h = acts_.alloc_f32({max_tokens, b}).f32();
    m.a = acts_.alloc_f32({max_tokens, b}).f32();
    m.y_base = m.type == BottleneckType::Output ? acts_.alloc_f32({max_tokens, m.n_in}).f32() : nullptr;
  }
  capacity_ = max_tokens;
}

float BottleneckAdapter::scale_of(const Module& m) const {
  return m.scale == size_t(-1) ? float(config_.scaling) : params_[m.scale].value.f32()[0];
}

const float* BottleneckAdapter::dropped(const Module& m, const float* z, int64_t N) const {
  const float p = float(config_.adapter_dropout);
  if (!mode_.training || p <= 0.f) return z;
  dropout_forward(zd_, z, N * m.n_in, p, mode_.dropout_seed, uint64_t(modules_.index_of(m)));
  return zd_;
}

// h (N, b) = z_d downᵀ;  a = act(h);  out (N, n_out) += (s·a) upᵀ.
void BottleneckAdapter::adapter_forward(Module& m, const float* z, float* out, int64_t N) {
  const int64_t b = config_.bottleneck_size, nb = N * b;
  const float s = scale_of(m);
  peft::linear_forward(m.h, dropped(m, z, N), params_[m.down].value, nullptr, N);
  activation_forward(activation_of(config_.act), m.a, m.h, nb);
  for (int64_t i = 0; i < nb; ++i) sa_[i] = s * m.a[i];
  gemm_f32(out, sa_, params_[m.up].value.f32(), GemmShape{N, m.n_out, b, false, true, true});
}

// With out += s · a upᵀ:  g = dout · up;  ∂s += Σ a ⊙ g;  ∂up += doutᵀ (s·a);
// ∂h = act'(h) ⊙ s·g;  ∂down += ∂hᵀ z_d;  ∂z_d = ∂h · down, carried back through the mask.
void BottleneckAdapter::adapter_backward(Module& m, const float* z, const float* dout, float* dz, int64_t N) {
  const int64_t b = config_.bottleneck_size, nb = N * b;
  const float s = scale_of(m);
  Param& D = params_[m.down];
  Param& U = params_[m.up];
  gemm_f32(g_, dout, U.value.f32(), GemmShape{N, b, m.n_out, false, false, false});
  if (m.scale != size_t(-1)) {
    double ds = 0;
    for (int64_t i = 0; i < nb; ++i) ds += double(m.a[i]) * double(g_[i]);
    params_[m.scale].grad.f32()[0] += float(ds);
  }
  for (int64_t i = 0; i < nb; ++i) sa_[i] = s * m.a[i];
  linear_backward_weight(U.grad.f32(), nullptr, dout, sa_, N, m.n_out, b);
  for (int64_t i = 0; i < nb; ++i) g_[i] *= s;
  std::memset(gh_, 0, size_t(nb) * sizeof(float));
  activation_backward(activation_of(config_.act), gh_, g_, m.h, nb);
  const float* zd = dropped(m, z, N);
  linear_backward_weight(D.grad.f32(), nullptr, gh_, zd, N, b, m.n_in);
  if (zd == z) {
    linear_backward_input(dz, gh_, D.value, N);
    return;
  }
  std::memset(dzd_, 0, size_t(N * m.n_in) * sizeof(float));
  linear_backward_input(dzd_, gh_, D.value, N);
  dropout_backward(dz, dzd_, N * m.n_in, float(config_.adapter_dropout), mode_.dropout_seed,
                   uint64_t(modules_.index_of(m)));
}

bool BottleneckAdapter::has_input_hook(Site site, int64_t layer) const {
  const Module* m = modules_.find(site, layer);
  return m && m->type == BottleneckType::Mh;
}

// x' (N, in) = x + s·A(x).
const float* BottleneckAdapter::linear_input(Site site, int64_t layer, const float* x, int64_t N) {
  Module* m = modules_.find(site, layer);
  if (!m || m->type != BottleneckType::Mh) return x;
  reserve(N);  // no-op once sized; inference may arrive without a reserve
  std::memcpy(wide_, x, size_t(N * m->n_in) * sizeof(float));
  adapter_forward(*m, x, wide_, N);
  return wide_;
}

// ∂x += ∂x' (the residual) + ∂x' through A.
void BottleneckAdapter::linear_input_backward(Site site, int64_t layer, const float* x, const float* dx_eff, float* dx,
                                              int64_t N) {
  Module* m = modules_.find(site, layer);
  const int64_t n = N * m->n_in;
#pragma omp parallel for
  for (int64_t i = 0; i < n; ++i) dx[i] += dx_eff[i];
  adapter_backward(*m, x, dx_eff, dx, N);
}

void BottleneckAdapter::linear_output(Site site, int64_t layer, const float* x, float* y, int64_t N) {
  Module* m = modules_.find(site, layer);
  if (!m || m->type == BottleneckType::Mh) return;
  reserve(N);
  if (m->type == BottleneckType::Parallel) {
    adapter_forward(*m, x, y, N);
    return;
  }
  std::memcpy(m->y_base, y, size_t(N * m->n_in) * sizeof(float));  // output: z = W x + b
  adapter_forward(*m, m->y_base, y, N);
}

// Parallel: ∂x += ∂(A(x)), ∂L/∂(W x + b) = dy.  Output: ∂L/∂(W x + b) = dy + ∂(A(y_base)).
const float* BottleneckAdapter::linear_output_backward(Site site, int64_t layer, const float* x, const float* dy,
                                                       float* dx, int64_t N) {
  Module* m = modules_.find(site, layer);
  if (!m || m->type == BottleneckType::Mh) return dy;
  if (m->type == BottleneckType::Parallel) {
    adapter_backward(*m, x, dy, dx, N);
    return dy;
  }
  std::memcpy(wide_, dy, size_t(N * m->n_in) * sizeof(float));
  adapter_backward(*m, m->y_base, dy, wide_, N);
  return wide_;
}

Status BottleneckAdapter::merge_into(Model&) const {
  return Status::error(
      "bottleneck adapters cannot be merged into the base weights (the adapter is a nonlinear "
      "bottleneck, not a weight delta); load the adapter with --adapter instead");
}

}  // namespace peft
