// AdaMix mixture-of-LoRA: routed forward/backward, averaged inference, merge, LoRA export.
#include "adapters/adamix/adamix.h"

#include "adapters/adamix/consistency_step.h"
#include "adapters/adapter_io.h"
#include "adapters/dropout.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/rng.h"
#include "kernels/matmul.h"

namespace peft {

// The expert of a module is a pure function of (routing seed, module, side): counter_hash of
// adapters/dropout.h, which the PyTorch reference reimplements.
int64_t AdamixAdapter::route(uint64_t routing_seed, uint64_t module, uint64_t side, int64_t num) {
  return num <= 1 ? 0 : int64_t(counter_hash(routing_seed, module, side) % uint64_t(num));
}

Result<std::unique_ptr<AdamixAdapter>> AdamixAdapter::create(const Model& model, const AdamixConfig& config,
                                                             uint64_t seed) {
  std::unique_ptr<AdamixAdapter> a(new AdamixAdapter(model, config));
  a->scaling_ = config.scaling();
  const int64_t r = config.r;
  PEFT_TRY(a->modules_.build(
      model, config.targets, "adamix target_modules", [&](const SiteRef& s, const Linear& lin) -> Result<Module> {
        const Linear* l = &lin;
        Module m;
        m.in = l->in();
        m.out = l->out();
        const std::string prefix = "base_model.model." + s.path;
        for (int64_t i = 0; i < config.num_down(); ++i) {
          const size_t k = a->params_.add(prefix + ".lora_A." + std::to_string(i) + ".weight", {r, m.in});
          if (i == 0) m.a0 = k;
        }
        for (int64_t i = 0; i < config.num_up(); ++i) {
          const size_t k = a->params_.add(prefix + ".lora_B." + std::to_string(i) + ".weight", {m.out, r});
          if (i == 0) m.b0 = k;
        }
        a->max_in_ = std::max(a->max_in_, m.in);
        a->max_out_ = std::max(a->max_out_, m.out);
        return m;
      }));
  PEFT_TRY(a->params_.finalize(model));
  Rng rng(seed);
  for (const Module& m : a->modules_) {
    float* A0 = a->params_[m.a0].value.f32();
    const float bound = 1.0f / std::sqrt(float(m.in));  // kaiming_uniform_(a=√5)
    for (int64_t i = 0; i < r * m.in; ++i) A0[i] = (2.f * rng.uniform() - 1.f) * bound;
    for (int64_t e = 1; e < config.num_down(); ++e)
      std::memcpy(a->params_[m.a0 + size_t(e)].value.f32(), A0, size_t(r * m.in) * sizeof(float));
    // B copies stay zero (finalize zero-fills), so the adapter starts as the identity.
  }
  a->abar_.assign(size_t(r * a->max_in_), 0.f);
  a->dabar_.assign(size_t(r * a->max_in_), 0.f);
  a->bbar_.assign(size_t(r * a->max_out_), 0.f);
  a->dbbar_.assign(size_t(r * a->max_out_), 0.f);
  return a;
}

void AdamixAdapter::reserve(int64_t max_tokens) {
  if (max_tokens <= capacity_) return;
  const int64_t r = config_.r;
  u_.assign(size_t(max_tokens * r), 0.f);
  g_.assign(size_t(max_tokens * r), 0.f);
  xd_.assign(size_t(max_tokens * max_in_), 0.f);
  dxd_.assign(size_t(max_tokens * max_in_), 0.f);
  capacity_ = max_tokens;
}

void AdamixAdapter::average(const Module& m, float* abar, float* bbar) const {
  const int64_t r = config_.r, nd = config_.num_down(), nu = config_.num_up();
  const int64_t na = r * m.in, nb = m.out * r;
  for (int64_t i = 0; i < na; ++i) {
    double s = 0;
    for (int64_t e = 0; e < nd; ++e) s += params_[m.a0 + size_t(e)].value.f32()[i];
    abar[i] = float(s / double(nd));
  }
  for (int64_t i = 0; i < nb; ++i) {
    double s = 0;
    for (int64_t e = 0; e < nu; ++e) s += params_[m.b0 + size_t(e)].value.f32()[i];
    bbar[i] = float(s / double(nu));
  }
}

const float* AdamixAdapter::dropped_input(const Module& m, size_t index, const float* x, int64_t N, float* x_d) const {
  const float p = float(config_.lora_dropout);
  if (!mode_.training || p <= 0.f) return x;
  dropout_forward(x_d, x, N * m.in, p, mode_.dropout_seed, index);
  return x_d;
}

// u (N, r) = s · x_d Aᵀ;  y (N, out) += u Bᵀ, with (A, B) the routed experts or the averages.
void AdamixAdapter::linear_output(Site site, int64_t layer, const float* x, float* y, int64_t N) {
  Module* m = modules_.find(site, layer);
  if (!m) return;
  reserve(N);  // no-op once sized; inference may arrive without a reserve
  const int64_t r = config_.r;
  const size_t index = modules_.index_of(*m);
  const float *A, *B;
  if (mode_.training) {
    A = params_[m->a0 + size_t(route(mode_.routing_seed, index, 0, config_.num_down()))].value.f32();
    B = params_[m->b0 + size_t(route(mode_.routing_seed, index, 1, config_.num_up()))].value.f32();
  } else {
    average(*m, abar_.data(), bbar_.data());
    A = abar_.data();
    B = bbar_.data();
  }
  const float* xd = dropped_input(*m, index, x, N, xd_.data());
  gemm_f32(u_.data(), xd, A, GemmShape{N, r, m->in, false, true, false});
  for (int64_t i = 0; i < N * r; ++i) u_[size_t(i)] *= scaling_;
  gemm_f32(y, u_.data(), B, GemmShape{N, m->out, r, false, true, true});
}

// Stateless between forward and backward (u is recomputed from x), so two decoders can run
// routed passes through one adapter: the backward uses the mode set when it runs.
// ∂B += dyᵀ u;  g = s · dy B;  ∂A += gᵀ x_d;  ∂x_d = g A (dropout mask carries it to ∂x).
// Eval mode: the gradients of Ā, B̄ are spread evenly over the copies (Ā = mean of copies).
const float* AdamixAdapter::linear_output_backward(Site site, int64_t layer, const float* x, const float* dy, float* dx,
                                                   int64_t N) {
  Module* m = modules_.find(site, layer);
  if (!m) return dy;
  const int64_t r = config_.r, nd = config_.num_down(), nu = config_.num_up();
  const size_t index = modules_.index_of(*m);
  const float *A, *B;
  float *dA, *dB;
  if (mode_.training) {
    Param& pa = params_[m->a0 + size_t(route(mode_.routing_seed, index, 0, nd))];
    Param& pb = params_[m->b0 + size_t(route(mode_.routing_seed, index, 1, nu))];
    A = pa.value.f32();
    B = pb.value.f32();
    dA = pa.grad.f32();
    dB = pb.grad.f32();
  } else {
    average(*m, abar_.data(), bbar_.data());
    A = abar_.data();
    B = bbar_.data();
    std::fill(dabar_.begin(), dabar_.end(), 0.f);
    std::fill(dbbar_.begin(), dbbar_.end(), 0.f);
    dA = dabar_.data();
    dB = dbbar_.data();
  }
  const float* xd = dropped_input(*m, index, x, N, xd_.data());
  gemm_f32(u_.data(), xd, A, GemmShape{N, r, m->in, false, true, false});
  for (int64_t i = 0; i < N * r; ++i) u_[size_t(i)] *= scaling_;
  linear_backward_weight(dB, nullptr, dy, u_.data(), N, m->out, r);
  gemm_f32(g_.data(), dy, B, GemmShape{N, r, m->out, false, false, false});
  for (int64_t i = 0; i < N * r; ++i) g_[size_t(i)] *= scaling_;
  linear_backward_weight(dA, nullptr, g_.data(), xd, N, r, m->in);
  if (!mode_.training) {
    for (int64_t e = 0; e < nd; ++e) {
      float* g = params_[m->a0 + size_t(e)].grad.f32();
      for (int64_t i = 0; i < r * m->in; ++i) g[i] += dabar_[size_t(i)] / float(nd);
    }
    for (int64_t e = 0; e < nu; ++e) {
      float* g = params_[m->b0 + size_t(e)].grad.f32();
      for (int64_t i = 0; i < m->out * r; ++i) g[i] += dbbar_[size_t(i)] / float(nu);
    }
  }
  if (xd == x) {
    gemm_f32(dx, g_.data(), A, GemmShape{N, m->in, r, false, false, true});
    return dy;
  }
  std::memset(dxd_.data(), 0, size_t(N * m->in) * sizeof(float));
  gemm_f32(dxd_.data(), g_.data(), A, GemmShape{N, m->in, r, false, false, true});
  dropout_backward(dx, dxd_.data(), N * m->in, float(config_.lora_dropout), mode_.dropout_seed, index);
  return dy;
}

// W' (out, in) = W + s · B̄ Ā, in the base weights' own float dtype (F32 for a quantized base), on private copies.
Status AdamixAdapter::merge_into(Model& model) const {
  const int64_t r = config_.r;
  for (const Module& m : modules_) {
    Linear* l = linear_at(model.layers[size_t(m.ref.layer)], m.ref.site);
    if (!l || l->out() != m.out || l->in() != m.in)
      return Status::errorf("cannot merge: {} has no matching projection in the model", m.ref.path);
    std::vector<float> abar(size_t(r * m.in)), bbar(size_t(m.out * r));
    average(m, abar.data(), bbar.data());
    OwnedTensor w = to_f32(l->w);
    OwnedTensor delta(DType::F32, {m.out, m.in});
    gemm_f32(delta.f32(), bbar.data(), abar.data(), GemmShape{m.out, m.in, r, false, false, false});
    for (int64_t i = 0; i < m.out * m.in; ++i) w.f32()[i] += scaling_ * delta.f32()[i];
    replace_weight(model, l->w, std::move(w));
  }
  return Status::ok();
}

Result<std::unique_ptr<LoraAdapter>> AdamixAdapter::to_plain_lora() const {
  LoraConfig lc;
  lc.r = config_.r;
  lc.lora_alpha = config_.lora_alpha;
  lc.lora_dropout = config_.lora_dropout;
  lc.targets = config_.targets;
  PEFT_ASSIGN_OR_RETURN(auto lora, LoraAdapter::create(*model_, lc, 0));
  for (const Module& m : modules_) {
    const std::string prefix = "base_model.model." + m.ref.path;
    Param* pa = nullptr;
    Param* pb = nullptr;
    for (Param& p : lora->params().all()) {
      if (p.name == prefix + ".lora_A.weight") pa = &p;
      if (p.name == prefix + ".lora_B.weight") pb = &p;
    }
    if (!pa || !pb) return Status::errorf("to_plain_lora: LoRA has no module {}", m.ref.path);
    average(m, pa->value.f32(), pb->value.f32());
  }
  return lora;
}

Status AdamixAdapter::set_scale(double scale) {
  if (!std::isfinite(scale)) return Status::errorf("--adapter-scale must be a finite number, found {}", scale);
  scaling_ = float(config_.scaling() * scale);
  return Status::ok();
}

Status AdamixAdapter::export_as(const std::string& format, const Model& model, const AdapterExportOptions& options,
                                const std::string& out) const {
  PEFT_ASSIGN_OR_RETURN(auto lora, to_plain_lora());
  if (format == "peft-lora") return save_adapter(*lora, out, options.base_model_path, options.overwrite);
  return lora->export_as(format, model, options, out);
}

std::unique_ptr<TrainStep> AdamixAdapter::make_train_step(Decoder& dec) {
  if (config_.consistency_weight > 0) return make_consistency_train_step(dec, *this, config_.consistency_weight);
  return Adapter::make_train_step(dec);
}

}  // namespace peft
