// (IA)³ (Liu et al. 2022) with PEFT's semantics: learned scaling of projection outputs, or of
// the inputs of feed-forward projections.
#pragma once
#include <memory>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/ia3/ia3_config.h"
#include "adapters/site_modules.h"
#include "adapters/targets.h"
#include "core/arena.h"

namespace peft {

class Ia3Adapter final : public Adapter {
 public:
  // l = 1 everywhere (PEFT's init), so the model starts as the base model.
  // The seed is unused: l starts at 1 (PEFT's init), nothing random.
  static Result<std::unique_ptr<Ia3Adapter>> create(const Model& model, const Ia3Config& config, uint64_t seed = 0);

  std::string method() const override { return "ia3"; }
  Json config_json() const override { return config_.to_json(*model_); }
  ParamStore& params() override { return params_; }
  const ParamStore& params() const override { return params_; }
  void reserve(int64_t max_tokens) override;
  Status merge_into(Model& model) const override;

  // Ordinary targets: y = (W x + b) ⊙ l.
  void linear_output(Site site, int64_t layer, const float* x, float* y, int64_t N) override;
  const float* linear_output_backward(Site site, int64_t layer, const float* x, const float* dy, float* dx,
                                      int64_t N) override;
  // Feed-forward targets: y = W (x ⊙ l) + b.
  const float* linear_input(Site site, int64_t layer, const float* x, int64_t N) override;
  bool has_input_hook(Site site, int64_t layer) const override;
  void linear_input_backward(Site site, int64_t layer, const float* x, const float* dx_eff, float* dx,
                             int64_t N) override;

 private:
  struct Module {
    SiteRef ref;
    bool feedforward = false;
    int64_t width = 0;        // out (ordinary) or in (feed-forward)
    size_t l = 0;             // index into params_
    float* y_base = nullptr;  // (max_tokens, out) base output kept for ∂l (ordinary only)
  };
  Ia3Adapter(const Model& model, Ia3Config config) : model_(&model), config_(std::move(config)) {}

  const Model* model_;
  Ia3Config config_;
  ParamStore params_;
  SiteModules<Module> modules_;
  int64_t capacity_ = 0, max_width_ = 0;
  Arena acts_;
  float* scaled_ = nullptr;   // (capacity, max in) x ⊙ l for the base GEMM
  float* dy_base_ = nullptr;  // (capacity, max out) dy ⊙ l
};

}  // namespace peft
