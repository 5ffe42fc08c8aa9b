// (IA)³: per-channel scales at projection outputs (or feed-forward inputs), mergeable.
#include "adapters/ia3/ia3.h"

#include <algorithm>

#include "adapters/registry.h"

namespace peft {

namespace {
bool listed(const std::string& path, const std::vector<std::string>& names) {
  for (const std::string& n : names)
    if (path == n || (path.size() > n.size() && path.ends_with("." + n))) return true;
  return false;
}
}  // namespace

Result<Ia3Config> Ia3Config::from_json(const Json& j, const Model& model, const std::string& where) {
  Ia3Config c;
  PEFT_ASSIGN_OR_RETURN(c.targets, parse_targets(j, target_list(model.arch->targets.scaled), where));
  const Json ff = j.contains("feedforward_modules") ? j["feedforward_modules"] : Json();
  if (ff.is_null()) {  // PEFT fills it from its per-architecture table
    c.feedforward = target_list(model.arch->targets.scaled_input);
  } else if (ff.is_array()) {
    for (const Json& e : ff) {
      if (!e.is_string()) return Status::errorf("{}: feedforward_modules entries must be strings", where);
      c.feedforward.push_back(e.get<std::string>());
    }
  } else if (ff.is_string()) {
    c.feedforward.push_back(ff.get<std::string>());
  } else {
    return Status::errorf("{}: feedforward_modules must be a list of names", where);
  }
  if (c.targets.kind == TargetSpec::Kind::List && !ff.is_null())
    for (const std::string& f : c.feedforward)
      if (std::find(c.targets.names.begin(), c.targets.names.end(), f) == c.targets.names.end())
        return Status::errorf("{}: feedforward_modules entry '{}' is not in target_modules", where, f);
  PEFT_ASSIGN_OR_RETURN(c.init_ones, json_get_bool_or(j, "init_ia3_weights", true, where));
  return c;
}

Json Ia3Config::to_json(const Model& model) const {
  // PEFT 0.6.2's IA3Config has no layers_to_transform, and it requires feedforward_modules
  // to be a subset of a target_modules list: a restriction to layers, or a list that does not
  // contain the feed-forward names as written, becomes the regex of the selected paths.
  Json target_modules = peft_targets(model, targets, /*layers_as_regex=*/true).target_modules;
  if (target_modules.is_array())
    for (const std::string& f : feedforward)
      if (std::find(target_modules.begin(), target_modules.end(), Json(f)) == target_modules.end()) {
        target_modules = exact_target_regex(model, targets);
        break;
      }
  return Json{{"peft_type", "IA3"},
              {"task_type", "CAUSAL_LM"},
              {"target_modules", target_modules},
              {"feedforward_modules", feedforward},
              {"fan_in_fan_out", model.names.conv1d},
              {"init_ia3_weights", init_ones},
              {"inference_mode", true},
              {"modules_to_save", nullptr},
              {"revision", nullptr},
              {"auto_mapping", nullptr}};
}

Result<std::unique_ptr<Ia3Adapter>> Ia3Adapter::create(const Model& model, const Ia3Config& config, uint64_t) {
  std::unique_ptr<Ia3Adapter> a(new Ia3Adapter(model, config));
  PEFT_TRY(a->modules_.build(model, config.targets, "ia3 target_modules", [&](const SiteRef& s, const Linear& lin) -> Result<Module> {
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
  std::fill(a->params_.values(), a->params_.values() + a->params_.numel(), config.init_ones ? 1.f : 0.f);
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
const float* Ia3Adapter::linear_output_backward(Site site, int64_t layer, const float* x,
                                                const float* dy, float* dx, int64_t N) {
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
void Ia3Adapter::linear_input_backward(Site site, int64_t layer, const float* x,
                                       const float* dx_eff, float* dx, int64_t N) {
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
    if (lin->w.dtype != DType::F32) {
      OwnedTensor back(lin->w.dtype, {out, in});
      convert_from_f32(back.view().data, lin->w.dtype, w.f32(), size_t(out * in));
      w = std::move(back);
    }
    lin->w = w.view();
    model.owned.push_back(std::move(w));
    if (!m.feedforward && lin->has_bias()) {
      OwnedTensor b = to_f32(lin->b);
      for (int64_t o = 0; o < out; ++o) b.f32()[o] *= l[o];
      lin->b = b.view();
      model.owned.push_back(std::move(b));
    }
  }
  return Status::ok();
}

namespace {
using T = MethodFlag::Type;
}  // namespace

extern const MethodDef kIa3Method{
    "ia3",
    "IA3",
    create_from_json<Ia3Config, Ia3Adapter>,
    {
        {"--target-modules", "target_modules", T::List,
         "comma-separated module names, a regex, or all-linear (default: the architecture's)"},
        {"--feedforward-modules", "feedforward_modules", T::List,
         "targets whose input (not output) is scaled (default: the architecture's)"},
        {"--layers-to-transform", "layers_to_transform", T::List, "comma-separated layer indices (default: all)"},
    }};

}  // namespace peft
