// LoRA forward/backward/merge on the flat parameter store.
#include "adapters/lora/lora.h"

#include <cmath>
#include <cstring>

#include "adapters/dropout.h"
#include "core/rng.h"
#include "kernels/lowrank_rows.h"
#include "kernels/matmul.h"

namespace peft {

Result<std::unique_ptr<LoraAdapter>> LoraAdapter::create(const Model& model, const LoraConfig& config, uint64_t seed) {
  std::unique_ptr<LoraAdapter> a(new LoraAdapter(model, config));
  a->scaling_ = config.scaling();
  const int64_t r = config.r;
  PEFT_TRY(a->modules_.build(model, config.targets, "lora target_modules",
                             [&](const SiteRef& s, const Linear& l) -> Result<Module> {
                               Module m;
                               m.in = l.in();
                               m.out = l.out();
                               const std::string prefix = "base_model.model." + s.path;
                               m.a = a->params_.add(prefix + ".lora_A.weight", {r, m.in});
                               m.b = a->params_.add(prefix + ".lora_B.weight", {m.out, r});
                               a->max_in_ = std::max(a->max_in_, m.in);
                               return m;
                             }));
  PEFT_TRY(a->params_.finalize(model));
  Rng rng(seed);
  for (const Module& m : a->modules_) {
    float* A = a->params_[m.a].value.f32();
    float* B = a->params_[m.b].value.f32();
    if (config.init == "gaussian") {
      for (int64_t i = 0; i < r * m.in; ++i) A[i] = rng.normal() / float(r);
    } else {  // kaiming_uniform_(a=√5): bound = 1/√fan_in
      const float bound = 1.0f / std::sqrt(float(m.in));
      for (int64_t i = 0; i < r * m.in; ++i) A[i] = (2.f * rng.uniform() - 1.f) * bound;
    }
    if (config.init == "none") {  // PEFT leaves nn.Linear's own init on B as well
      const float bound = 1.0f / std::sqrt(float(r));
      for (int64_t i = 0; i < m.out * r; ++i) B[i] = (2.f * rng.uniform() - 1.f) * bound;
    }
  }
  return a;
}

void LoraAdapter::reserve(int64_t max_tokens) {
  if (max_tokens <= capacity_) return;
  const int64_t r = config_.r;
  size_t bytes = Arena::bytes_for(DType::F32, {max_tokens, r}) * (modules_.size() + 1) +
                 2 * Arena::bytes_for(DType::F32, {max_tokens, max_in_});
  acts_.reserve(bytes);
  for (Module& m : modules_) m.u = acts_.alloc_f32({max_tokens, r}).f32();
  g_ = acts_.alloc_f32({max_tokens, r}).f32();
  xd_ = acts_.alloc_f32({max_tokens, max_in_}).f32();
  dxd_ = acts_.alloc_f32({max_tokens, max_in_}).f32();
  capacity_ = max_tokens;
}

const float* LoraAdapter::dropped_input(const Module& m, size_t index, const float* x, int64_t N, float* x_d) const {
  const float p = float(config_.lora_dropout);
  if (!mode_.training || p <= 0.f) return x;
  dropout_forward(x_d, x, N * m.in, p, mode_.dropout_seed, index);
  return x_d;
}

// u (N, r) = s · x_d Aᵀ;  y (N, out) += u Bᵀ.
void LoraAdapter::linear_output(Site site, int64_t layer, const float* x, float* y, int64_t N) {
  Module* m = modules_.find(site, layer);
  if (!m) return;
  reserve(N);  // no-op once sized; inference may arrive without a reserve
  const int64_t r = config_.r;
  const Tensor& A = params_[m->a].value;
  const float* xd = dropped_input(*m, modules_.index_of(*m), x, N, xd_);
  if (!mode_.training && N <= kLowrankRowsMax) {  // a decode step: per-row arithmetic, no GEMM setup
    lowrank_rows_forward(y, m->u, xd, A.f32(), params_[m->b].value.f32(), scaling_, N, m->in, r, m->out);
    return;
  }
  peft::linear_forward(m->u, xd, A, nullptr, N);
  for (int64_t i = 0; i < N * r; ++i) m->u[i] *= scaling_;
  gemm_f32(y, m->u, params_[m->b].value.f32(), GemmShape{N, m->out, r, false, true, true});
}

// With u = s·A x_d and y += B u:  ∂B += dyᵀ u;  g = s · dy B;  ∂A += gᵀ x_d;
// ∂x_d = g A, and the dropout mask (with its 1/(1−p)) carries it back to ∂x.
const float* LoraAdapter::linear_output_backward(Site site, int64_t layer, const float* x, const float* dy, float* dx,
                                                 int64_t N) {
  Module* m = modules_.find(site, layer);
  if (!m) return dy;
  const int64_t r = config_.r;
  Param& A = params_[m->a];
  Param& B = params_[m->b];
  linear_backward_weight(B.grad.f32(), nullptr, dy, m->u, N, m->out, r);
  gemm_f32(g_, dy, B.value.f32(), GemmShape{N, r, m->out, false, false, false});
  for (int64_t i = 0; i < N * r; ++i) g_[i] *= scaling_;
  const size_t index = modules_.index_of(*m);
  const float* xd = dropped_input(*m, index, x, N, xd_);
  linear_backward_weight(A.grad.f32(), nullptr, g_, xd, N, r, m->in);
  if (xd == x) {
    linear_backward_input(dx, g_, A.value, N);
    return dy;
  }
  std::memset(dxd_, 0, size_t(N * m->in) * sizeof(float));
  linear_backward_input(dxd_, g_, A.value, N);
  dropout_backward(dx, dxd_, N * m->in, float(config_.lora_dropout), mode_.dropout_seed, index);
  return dy;
}

Status LoraAdapter::set_scale(double scale) {
  if (!std::isfinite(scale)) return Status::errorf("--adapter-scale must be a finite number, found {}", scale);
  scaling_ = float(config_.scaling() * scale);
  return Status::ok();
}

std::vector<LoraPair> LoraAdapter::pairs() const {
  std::vector<LoraPair> out;
  for (const Module& m : modules_)
    out.push_back({m.ref, params_[m.a].value.f32(), params_[m.b].value.f32(), m.in, m.out});
  return out;
}

Status LoraAdapter::export_as(const std::string& format, const Model& model, const AdapterExportOptions& options,
                              const std::string& out) const {
  if (format != "gguf-lora") return Adapter::export_as(format, model, options, out);
  return write_lora_gguf(model, pairs(), config_.r, config_.scaling(), options.type, out);
}

// W' (out, in) = W + s · B A, in the base weights' own float dtype (F32 for a quantized base), on private copies.
Status LoraAdapter::merge_into(Model& model) const {
  for (const Module& m : modules_) {
    Linear* l = linear_at(model.layers[size_t(m.ref.layer)], m.ref.site);
    if (!l || l->out() != m.out || l->in() != m.in)
      return Status::errorf("cannot merge: {} has no matching projection in the model", m.ref.path);
    OwnedTensor w = to_f32(l->w);
    OwnedTensor delta(DType::F32, {m.out, m.in});
    gemm_f32(delta.f32(), params_[m.b].value.f32(), params_[m.a].value.f32(),
             GemmShape{m.out, m.in, config_.r, false, false, false});
    for (int64_t i = 0; i < m.out * m.in; ++i) w.f32()[i] += scaling_ * delta.f32()[i];
    replace_weight(model, l->w, std::move(w));
  }
  return Status::ok();
}

}  // namespace peft
