// (IA)³: per-channel scales at projection outputs (or feed-forward inputs), mergeable.
#include "adapters/ia3/ia3.h"

#include <algorithm>

namespace peft {

namespace {
bool listed(const std::string& path, const std::vector<std::string>& names) {
  for (const std::string& n : names)
    if (path == n || (path.size() > n.size() && path.ends_with("." + n))) return true;
  return false;
}
}  // namespace

Result<std::unique_ptr<Ia3Adapter>> Ia3Adapter::create(const Model& model, const Ia3Config& config, uint64_t) {
  std::unique_ptr<Ia3Adapter> a(new Ia3Adapter(model, config));
  PEFT_TRY(a->modules_.build(
      model, config.targets, "ia3 target_modules", [&](const SiteRef& s, const Linear& lin) -> Result<Module> {
        const Linear* l = &lin;
        Module m;
        m.feedforward = listed(s.path, config.feedforward);
        m.width = m.feedforward ? l->in() : l->out();
        // PEFT's shapes: [out, 1] for ordinary targets, [1, in] for feed-forward ones.
        m.l = a->params_.add("base_model.model." + s.path + ".ia3_l",
                             m.feedforward ? std::vector<int64_t>{1, m.width} : std::vector<int64_t>{m.width, 1});
        a->max_width_ = std::max({a->max_width_, l->in(), l->out()});
        return m;
      }));
  PEFT_TRY(a->params_.finalize(model));
  std::fill(a->params_.values(), a->params_.values() + a->params_.method_numel(), config.init_ones ? 1.f : 0.f);
  return a;
}

void Ia3Adapter::reserve(int64_t max_tokens) {
  if (max_tokens <= capacity_) return;
  size_t bytes = 2 * Arena::bytes_for(DType::F32, {max_tokens, max_width_});
  for (const Module& m : modules_)
    if (!m.feedforward) bytes += Arena::bytes_for(DType::F32, {max_tokens, m.width});
  acts_.reserve(bytes);
  scaled_ = acts_.alloc_f32({max_tokens, max_width_}).f32();
  dy_base_ = acts_.alloc_f32({max_tokens, max_width_}).f32();
  for (Module& m : modules_)
    if (!m.feedforward) m.y_base = acts_.alloc_f32({max_tokens, m.width}).f32();
  capacity_ = max_tokens;
}

void Ia3Adapter::linear_output(Site site, int64_t layer, const float* x, float* y, int64_t N) {
  Module* m = modules_.find(site, layer);
  if (!m || m->feedforward) return;
  reserve(N);
  const float* l = params_[m->l].value.f32();
  const int64_t W = m->width;
#pragma omp parallel for
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < W; ++o) {
      m->y_base[n * W + o] = y[n * W + o];
      y[n * W + o] *= l[o];
    }
}

// y = y_base ⊙ l:  ∂l_o += Σ_n dy[n, o] y_base[n, o];  ∂y_base = dy ⊙ l.
const float* Ia3Adapter::linear_output_backward(Site site, int64_t layer, const float* x, const float* dy, float* dx,
                                                int64_t N) {
  Module* m = modules_.find(site, layer);
  if (!m || m->feedforward) return dy;
  Param& p = params_[m->l];
  const float* l = p.value.f32();
  float* dl = p.grad.f32();
  const int64_t W = m->width;
#pragma omp parallel for
  for (int64_t o = 0; o < W; ++o) {
    double s = 0;
    for (int64_t n = 0; n < N; ++n) s += double(dy[n * W + o]) * double(m->y_base[n * W + o]);
    dl[o] += float(s);
  }
#pragma omp parallel for
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < W; ++o) dy_base_[n * W + o] = dy[n * W + o] * l[o];
  return dy_base_;
}

bool Ia3Adapter::has_input_hook(Site site, int64_t layer) const {
  const Module* m = modules_.find(site, layer);
  return m && m->feedforward;
}

const float* Ia3Adapter::linear_input(Site site, int64_t layer, const float* x, int64_t N) {
  Module* m = modules_.find(site, layer);
  if (!m || !m->feedforward) return x;
  reserve(N);
  const float* l = params_[m->l].value.f32();
  const int64_t W = m->width;
#pragma omp parallel for
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < W; ++i) scaled_[n * W + i] = x[n * W + i] * l[i];
  return scaled_;
}

// x' = x ⊙ l:  ∂l_i += Σ_n ∂x'[n, i] x[n, i];  ∂x += ∂x' ⊙ l.
void Ia3Adapter::linear_input_backward(Site site, int64_t layer, const float* x, const float* dx_eff, float* dx,
                                       int64_t N) {
  Module* m = modules_.find(site, layer);
  Param& p = params_[m->l];
  const float* l = p.value.f32();
  float* dl = p.grad.f32();
  const int64_t W = m->width;
#pragma omp parallel for
  for (int64_t i = 0; i < W; ++i) {
    double s = 0;
    for (int64_t n = 0; n < N; ++n) s += double(dx_eff[n * W + i]) * double(x[n * W + i]);
    dl[i] += float(s);
  }
#pragma omp parallel for
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < W; ++i) dx[n * W + i] += dx_eff[n * W + i] * l[i];
}

// Ordinary: rows of W (and b) times l; feed-forward: columns of W times l.
Status Ia3Adapter::merge_into(Model& model) const {
  for (const Module& m : modules_) {
    Linear* lin = linear_at(model.layers[size_t(m.ref.layer)], m.ref.site);
    if (!lin) return Status::errorf("cannot merge: {} has no projection in the model", m.ref.path);
    const float* l = params_[m.l].value.f32();
    OwnedTensor w = to_f32(lin->w);
    const int64_t out = lin->out(), in = lin->in();
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i) w.f32()[o * in + i] *= m.feedforward ? l[i] : l[o];
    replace_weight(model, lin->w, std::move(w));
    if (!m.feedforward && lin->has_bias()) {
      OwnedTensor b = to_f32(lin->b);
      for (int64_t o = 0; o < out; ++o) b.f32()[o] *= l[o];
      lin->b = b.view();
      model.owned.push_back(std::move(b));
    }
  }
  return Status::ok();
}

}  // namespace peft
