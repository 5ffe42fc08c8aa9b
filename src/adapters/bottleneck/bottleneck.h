// Bottleneck adapters (Houlsby et al. 2019; He et al. 2021) with LLM-Adapters' semantics:
// A(z) = up(act(down(dropout(z)))) in series before (mh) or after (output) a projection, or
// in parallel with it.
#pragma once
#include <memory>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/bottleneck/bottleneck_config.h"
#include "adapters/site_modules.h"
#include "core/arena.h"

namespace peft {

class BottleneckAdapter final : public Adapter {
 public:
  // Creates adapter_down (b, n_in), adapter_up (n_out, b) and, for learned scaling,
  // adapter_scaling (1) per selected projection, initialised (seeded) as the fork does.
  static Result<std::unique_ptr<BottleneckAdapter>> create(const Model& model, const BottleneckConfig& config,
                                                           uint64_t seed);

  std::string method() const override { return "bottleneck"; }
  Json config_json() const override { return config_.to_json(*model_); }
  ParamStore& params() override { return params_; }
  const ParamStore& params() const override { return params_; }
  void reserve(int64_t max_tokens) override;
  bool writes_torch_checkpoint() const override { return true; }  // the fork reads only .bin
  Status merge_into(Model& model) const override;

  // Mh targets: the projection sees x + s·A(x).
  const float* linear_input(Site site, int64_t layer, const float* x, int64_t N) override;
  bool has_input_hook(Site site, int64_t layer) const override;
  void linear_input_backward(Site site, int64_t layer, const float* x, const float* dx_eff, float* dx,
                             int64_t N) override;
  // Output targets: y ← y + s·A(y); parallel targets: y ← y + s·A(x).
  void linear_output(Site site, int64_t layer, const float* x, float* y, int64_t N) override;
  const float* linear_output_backward(Site site, int64_t layer, const float* x, const float* dy, float* dx,
                                      int64_t N) override;

  const BottleneckConfig& config() const { return config_; }

 private:
  struct Module {
    SiteRef ref;
    BottleneckType type = BottleneckType::Mh;
    int64_t n_in = 0, n_out = 0;  // adapter widths: z (N, n_in) → A(z) (N, n_out)
    size_t down = 0, up = 0;      // indices into params_
    size_t scale = size_t(-1);    // adapter_scaling (learned only)
    float* h = nullptr;           // (capacity, b) down(drop(z)), kept for the backward
    float* a = nullptr;           // (capacity, b) act(h)
    float* y_base = nullptr;      // (capacity, n_in) output type: the base output W x + b
  };
  BottleneckAdapter(const Model& model, BottleneckConfig config) : model_(&model), config_(std::move(config)) {}
  float scale_of(const Module& m) const;
  // z_d (N, n_in) = dropout(z) with the mask of (module, current seed); z itself when off.
  const float* dropped(const Module& m, const float* z, int64_t N) const;
  // out (N, n_out) += s · A(z); keeps h and a in the module.
  void adapter_forward(Module& m, const float* z, float* out, int64_t N);
  // Given dout = ∂L/∂(s·A(z)): accumulates ∂down, ∂up, ∂s and dz (N, n_in) += ∂L/∂z.
  void adapter_backward(Module& m, const float* z, const float* dout, float* dz, int64_t N);

  const Model* model_;
  BottleneckConfig config_;
  ParamStore params_;
  SiteModules<Module> modules_;
  int64_t max_width_ = 0, capacity_ = 0;
  Arena acts_;
  float* wide_ = nullptr;  // (capacity, max_width) x + s·A(x) (mh) or ∂L/∂h (output)
  float* zd_ = nullptr;    // (capacity, max_width) dropped adapter input
  float* dzd_ = nullptr;   // (capacity, max_width) gradient w.r.t. the dropped input
  float* sa_ = nullptr;    // (capacity, b) s · a
  float* g_ = nullptr;     // (capacity, b) ∂L/∂a (unscaled: dout · up)
  float* gh_ = nullptr;    // (capacity, b) ∂L/∂h
};

}  // namespace peft
