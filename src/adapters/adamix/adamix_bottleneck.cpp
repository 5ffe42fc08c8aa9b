// AdaMix mixture of bottleneck adapters: routed forward/backward with one activation set per
// pass, averaged inference, plain-adapter export.
#include "adapters/adamix/adamix_bottleneck.h"

#include "adapters/adamix/consistency_step.h"
#include "adapters/adapter_io.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "adapters/adamix/adamix.h"
#include "adapters/dropout.h"
#include "core/rng.h"
#include "kernels/matmul.h"

namespace peft {

Result<std::unique_ptr<AdamixBottleneckAdapter>> AdamixBottleneckAdapter::create(const Model& model,
                                                                                 const AdamixConfig& config,
                                                                                 uint64_t seed) {
  const std::string where = "adamix target_modules";
  std::unique_ptr<AdamixBottleneckAdapter> a(new AdamixBottleneckAdapter(model, config));
  const int64_t b = config.bottleneck_size;
  PEFT_TRY(a->modules_.build(model, config.targets, where, [&](const SiteRef& s, const Linear& lin) -> Result<Module> {
    // Series adapters on a projection's output: the MLP output or the attention output
    // (LLM-Adapters' "output" type), never mh / parallel.
    if (s.site != Site::FfnDown && s.site != Site::AttnO)
      return Status::errorf(
          "{}: base 'bottleneck' places series adapters after the MLP output or attention "
          "output projection; '{}' is neither",
          where, s.path);
    const Linear* l = &lin;
    Module m;
    m.n = l->out();
    m.acts = a->acts_per_token_;
    a->acts_per_token_ += m.n + 2 * b;
    const std::string prefix = "base_model.model." + s.path;
    for (int64_t i = 0; i < config.num_down(); ++i) {
      const size_t k = a->params_.add(prefix + ".adapter_down." + std::to_string(i) + ".weight", {b, m.n});
      if (i == 0) m.d0 = k;
    }
    for (int64_t i = 0; i < config.num_up(); ++i) {
      const size_t k = a->params_.add(prefix + ".adapter_up." + std::to_string(i) + ".weight", {m.n, b});
      if (i == 0) m.u0 = k;
    }
    a->max_n_ = std::max(a->max_n_, m.n);
    return m;
  }));
  PEFT_TRY(a->params_.finalize(model));
  Rng rng(seed);
  for (const Module& m : a->modules_) {
    float* D0 = a->params_[m.d0].value.f32();          // (b, n)
    const float bound = 1.0f / std::sqrt(float(m.n));  // kaiming_uniform_(a=√5), as LoRA's A
    for (int64_t i = 0; i < b * m.n; ++i) D0[i] = (2.f * rng.uniform() - 1.f) * bound;
    for (int64_t e = 1; e < config.num_down(); ++e)
      std::memcpy(a->params_[m.d0 + static_cast<size_t>(e)].value.f32(), D0,
                  static_cast<size_t>(b * m.n) * sizeof(float));
    // Up copies stay zero (finalize zero-fills): the adapter starts as the identity.
  }
  const size_t nbw = static_cast<size_t>(b * a->max_n_);
  a->dbar_.assign(nbw, 0.f);
  a->ubar_.assign(nbw, 0.f);
  a->ddbar_.assign(nbw, 0.f);
  a->dubar_.assign(nbw, 0.f);
  return a;
}

// Growing reallocates every pass's set: call it before a step, never between a pass's
// forward and its backward (the trainer reserves once for its largest micro-batch).
void AdamixBottleneckAdapter::reserve(int64_t max_tokens) {
  if (max_tokens <= capacity_) return;
  const int64_t b = config_.bottleneck_size;
  capacity_ = max_tokens;
  zd_.assign(static_cast<size_t>(max_tokens * max_n_), 0.f);
  dzd_.assign(static_cast<size_t>(max_tokens * max_n_), 0.f);
  wide_.assign(static_cast<size_t>(max_tokens * max_n_), 0.f);
  g_.assign(static_cast<size_t>(max_tokens * b), 0.f);
  gh_.assign(static_cast<size_t>(max_tokens * b), 0.f);
  for (PassActs& p : passes_) p.block.clear();
  ensure_pass(0);
  if (config_.consistency_weight > 0) ensure_pass(1);
  for (size_t p = 2; p < passes_.size(); ++p) ensure_pass(p);
}

void AdamixBottleneckAdapter::ensure_pass(size_t pass) {
  if (passes_.size() <= pass) passes_.resize(pass + 1);
  std::vector<float>& block = passes_[pass].block;
  const size_t need = static_cast<size_t>(capacity_ * acts_per_token_);
  if (block.size() < need) block.assign(need, 0.f);
}

float* AdamixBottleneckAdapter::y_base_of(const Module& m) {
  return passes_[static_cast<size_t>(mode_.pass)].block.data() + capacity_ * m.acts;
}

void AdamixBottleneckAdapter::average(const Module& m, float* dbar, float* ubar) const {
  const int64_t nd = config_.num_down(), nu = config_.num_up();
  const int64_t count = config_.bottleneck_size * m.n;  // both (b, n) and (n, b)
  for (int64_t i = 0; i < count; ++i) {
    double s = 0;
    for (int64_t e = 0; e < nd; ++e) s += params_[m.d0 + static_cast<size_t>(e)].value.f32()[i];
    dbar[i] = float(s / double(nd));
  }
  for (int64_t i = 0; i < count; ++i) {
    double s = 0;
    for (int64_t e = 0; e < nu; ++e) s += params_[m.u0 + static_cast<size_t>(e)].value.f32()[i];
    ubar[i] = float(s / double(nu));
  }
}

void AdamixBottleneckAdapter::weights(const Module& m, const float** D, const float** U) {
  if (!mode_.training) {
    average(m, dbar_.data(), ubar_.data());
    *D = dbar_.data();
    *U = ubar_.data();
    return;
  }
  const uint64_t index = uint64_t(modules_.index_of(m));
  *D = params_[m.d0 + size_t(AdamixAdapter::route(mode_.routing_seed, index, 0, config_.num_down()))].value.f32();
  *U = params_[m.u0 + size_t(AdamixAdapter::route(mode_.routing_seed, index, 1, config_.num_up()))].value.f32();
}

const float* AdamixBottleneckAdapter::dropped(const Module& m, const float* z, int64_t N) {
  const float p = float(config_.adapter_dropout);
  if (!mode_.training || p <= 0.f) return z;
  dropout_forward(zd_.data(), z, N * m.n, p, mode_.dropout_seed, uint64_t(modules_.index_of(m)));
  return zd_.data();
}

// y_base (N, n) = y;  h (N, b) = dropout(y_base) Dᵀ;  a = act(h);  y += a Uᵀ.
void AdamixBottleneckAdapter::linear_output(Site site, int64_t layer, const float*, float* y, int64_t N) {
  Module* m = modules_.find(site, layer);
  if (!m) return;
  reserve(N);  // no-op once sized; inference may arrive without a reserve
  ensure_pass(static_cast<size_t>(mode_.pass));
  const int64_t b = config_.bottleneck_size, nb = N * b;
  const float *D, *U;
  weights(*m, &D, &U);
  float* yb = y_base_of(*m);
  float* h = h_of(*m);
  float* a = a_of(*m);
  std::memcpy(yb, y, static_cast<size_t>(N * m->n) * sizeof(float));
  gemm_f32(h, dropped(*m, yb, N), D, GemmShape{N, b, m->n, false, true, false});
  if (config_.act.tanh) {
    for (int64_t i = 0; i < nb; ++i) a[i] = std::tanh(h[i]);
  } else {
    activation_forward(config_.act.act, a, h, nb);
  }
  gemm_f32(y, a, U, GemmShape{N, m->n, b, false, true, true});
}

// With y = y_base + a Uᵀ:  g = dy U;  ∂U += dyᵀ a;  ∂h = act'(h) ⊙ g;  ∂D += ∂hᵀ z_d;
// ∂L/∂y_base = dy + (∂h D carried back through the dropout mask). Uses the current pass's
// activations and the experts of the current routing seed (the mode set for this backward).
// Inference mode: the gradients of D̄, Ū are spread evenly over the copies.
const float* AdamixBottleneckAdapter::linear_output_backward(Site site, int64_t layer, const float*, const float* dy,
                                                             float*, int64_t N) {
  Module* m = modules_.find(site, layer);
  if (!m) return dy;
  const int64_t b = config_.bottleneck_size, nb = N * b, nd = config_.num_down(), nu = config_.num_up();
  const uint64_t index = uint64_t(modules_.index_of(*m));
  const float *D, *U;
  weights(*m, &D, &U);
  float *dD, *dU;
  if (mode_.training) {
    dD = params_[m->d0 + size_t(AdamixAdapter::route(mode_.routing_seed, index, 0, nd))].grad.f32();
    dU = params_[m->u0 + size_t(AdamixAdapter::route(mode_.routing_seed, index, 1, nu))].grad.f32();
  } else {
    std::fill(ddbar_.begin(), ddbar_.end(), 0.f);
    std::fill(dubar_.begin(), dubar_.end(), 0.f);
    dD = ddbar_.data();
    dU = dubar_.data();
  }
  const float* yb = y_base_of(*m);
  const float* h = h_of(*m);
  const float* a = a_of(*m);
  gemm_f32(g_.data(), dy, U, GemmShape{N, b, m->n, false, false, false});
  linear_backward_weight(dU, nullptr, dy, a, N, m->n, b);
  if (config_.act.tanh) {
    for (int64_t i = 0; i < nb; ++i) gh_[size_t(i)] = g_[size_t(i)] * (1.f - a[i] * a[i]);
  } else {
    std::memset(gh_.data(), 0, static_cast<size_t>(nb) * sizeof(float));
    activation_backward(config_.act.act, gh_.data(), g_.data(), h, nb);
  }
  const float* zd = dropped(*m, yb, N);
  linear_backward_weight(dD, nullptr, gh_.data(), zd, N, b, m->n);
  if (!mode_.training) {
    const int64_t count = b * m->n;
    for (int64_t e = 0; e < nd; ++e) {
      float* g = params_[m->d0 + static_cast<size_t>(e)].grad.f32();
      for (int64_t i = 0; i < count; ++i) g[i] += ddbar_[size_t(i)] / float(nd);
    }
    for (int64_t e = 0; e < nu; ++e) {
      float* g = params_[m->u0 + static_cast<size_t>(e)].grad.f32();
      for (int64_t i = 0; i < count; ++i) g[i] += dubar_[size_t(i)] / float(nu);
    }
  }
  std::memcpy(wide_.data(), dy, static_cast<size_t>(N * m->n) * sizeof(float));
  if (zd == yb) {
    gemm_f32(wide_.data(), gh_.data(), D, GemmShape{N, m->n, b, false, false, true});
    return wide_.data();
  }
  std::memset(dzd_.data(), 0, static_cast<size_t>(N * m->n) * sizeof(float));
  gemm_f32(dzd_.data(), gh_.data(), D, GemmShape{N, m->n, b, false, false, true});
  dropout_backward(wide_.data(), dzd_.data(), N * m->n, float(config_.adapter_dropout), mode_.dropout_seed, index);
  return wide_.data();
}

Status AdamixBottleneckAdapter::merge_into(Model&) const {
  return Status::error(
      "AdaMix bottleneck adapters cannot be merged into the base weights (a nonlinear adapter, not a "
      "weight delta); `peft export --format bottleneck` writes the averaged experts as a plain "
      "bottleneck adapter to load with --adapter");
}

Result<std::unique_ptr<BottleneckAdapter>> AdamixBottleneckAdapter::to_plain_bottleneck() const {
  PEFT_ASSIGN_OR_RETURN(BottleneckConfig bc, config_.plain_bottleneck(*model_, "to_plain_bottleneck"));
  PEFT_ASSIGN_OR_RETURN(auto plain, BottleneckAdapter::create(*model_, bc, 0));
  for (const Module& m : modules_) {
    const std::string prefix = "base_model.model." + m.ref.path;
    Param* pd = nullptr;
    Param* pu = nullptr;
    for (Param& p : plain->params().all()) {
      if (p.name == prefix + ".adapter_down.weight") pd = &p;
      if (p.name == prefix + ".adapter_up.weight") pu = &p;
    }
    if (!pd || !pu || pd->value.numel() != config_.bottleneck_size * m.n)
      return Status::errorf("to_plain_bottleneck: the bottleneck adapter has no matching module {}", m.ref.path);
    average(m, pd->value.f32(), pu->value.f32());
  }
  return plain;
}

Status AdamixBottleneckAdapter::export_as(const std::string& format, const Model& model,
                                          const AdapterExportOptions& options, const std::string& out) const {
  if (format != "bottleneck") return Adapter::export_as(format, model, options, out);
  PEFT_ASSIGN_OR_RETURN(auto plain, to_plain_bottleneck());
  return save_adapter(*plain, out, options.base_model_path, options.overwrite);
}

std::unique_ptr<TrainStep> AdamixBottleneckAdapter::make_train_step(Decoder& dec) {
  if (config_.consistency_weight > 0) return make_consistency_train_step(dec, *this, config_.consistency_weight);
  return Adapter::make_train_step(dec);
}

}  // namespace peft
