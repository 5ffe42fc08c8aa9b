// AdaMix's "mixture of adapters" (Wang et al. 2022, arXiv 2210.17451; microsoft/AdaMix
// ExpertSoup): E series bottleneck adapters after each selected output projection, one
// down- and one up-projection picked at random per forward while training, the averaged
// adapter at inference, and the consistency loss between two routed passes.
#pragma once
#include <memory>
#include <vector>

#include "adapters/adamix/adamix_config.h"
#include "adapters/adapter.h"
#include "adapters/bottleneck/bottleneck.h"
#include "adapters/site_modules.h"

namespace peft {

// Parameters (per selected projection, LLM-Adapters-style keys, no biases):
//   base_model.model.<path>.adapter_down.<i>.weight  (b, n), i < num_down() (1 when share_down)
//   base_model.model.<path>.adapter_up.<j>.weight    (n, b), j < num_up()   (1 when share_up)
// with n the projection's output width. The adapter is LLM-Adapters' "output" type:
//   y ← y + U act(D dropout(y))        (scaling 1)
// Training (mode().training): D = D_k, U = U_j with k = AdamixAdapter::route(routing_seed, m,
// 0, num_down()) and j = route(routing_seed, m, 1, num_up()) for module m (the m-th selected
// projection, layer-then-site order); the whole micro-batch shares the pick. Otherwise D̄, Ū,
// the means of the copies, recomputed from the current values at every call (no stale cache).
// Without biases the averaged module is exactly a plain LLM-Adapters AdapterP adapter
// (to_plain_bottleneck). Deviation from ExpertSoup (nn.Linear init, with biases): the down
// copies start as one Kaiming-uniform draw (bound 1/√n), the up copies at zero, so the model
// equals the base at init and the experts start identical.
class AdamixBottleneckAdapter final : public Adapter {
 public:
  static Result<std::unique_ptr<AdamixBottleneckAdapter>> create(const Model& model, const AdamixConfig& config,
                                                                 uint64_t seed);

  std::string method() const override { return "adamix"; }
  Json config_json() const override { return config_.to_json(*model_); }
  ParamStore& params() override { return params_; }
  const ParamStore& params() const override { return params_; }
  // Sizes pass 0's activations, and pass 1's when the consistency loss runs a second pass.
  void reserve(int64_t max_tokens) override;
  double consistency_weight() const override { return config_.consistency_weight; }
  // With λ > 0: two routed passes and the consistency loss (consistency_step.h).
  std::unique_ptr<TrainStep> make_train_step(Decoder& dec) override;
  int train_step_decoders() const override { return config_.consistency_weight > 0 ? 2 : 1; }
  // Refused: the adapter is nonlinear, not a weight delta.
  Status merge_into(Model& model) const override;
  // Its averaged experts as a plain LLM-Adapters bottleneck adapter (AdapterP).
  std::vector<std::string> export_formats() const override { return {"bottleneck"}; }
  Status export_as(const std::string& format, const Model& model, const AdapterExportOptions& options,
                   const std::string& out) const override;

  void linear_output(Site site, int64_t layer, const float* x, float* y, int64_t N) override;
  const float* linear_output_backward(Site site, int64_t layer, const float* x, const float* dy, float* dx,
                                      int64_t N) override;

  // The averaged module as a plain LLM-Adapters bottleneck adapter (use_adapterp, output
  // adapters at the same targets, same bottleneck_size / non_linearity, scaling 1.0).
  Result<std::unique_ptr<BottleneckAdapter>> to_plain_bottleneck() const;
  const AdamixConfig& config() const { return config_; }

 private:
  struct Module {
    SiteRef ref;
    int64_t n = 0;          // the projection's output width: the adapter maps (N, n) → (N, n)
    size_t d0 = 0, u0 = 0;  // params_ indices of copy 0 of adapter_down / adapter_up (copies follow)
    int64_t acts = 0;       // offset of this module's activations in a pass's block, per token
  };
  // What one routed pass keeps between its forward and its backward. Consistency training
  // runs pass 1's forward and backward between pass 0's, through this one adapter, so every
  // pass (AdapterRunMode::pass) has its own set.
  struct PassActs {
    std::vector<float> block;  // per module: y_base (cap, n), h (cap, b), a (cap, b)
  };
  AdamixBottleneckAdapter(const Model& model, AdamixConfig config) : model_(&model), config_(std::move(config)) {}
  // The activations of module m in the current pass (sized on first use of that pass).
  float* y_base_of(const Module& m);
  float* h_of(const Module& m) { return y_base_of(m) + capacity_ * m.n; }
  float* a_of(const Module& m) { return h_of(m) + capacity_ * config_.bottleneck_size; }
  void ensure_pass(size_t pass);
  // D̄ (b, n) and Ū (n, b) of a module into dbar, ubar.
  void average(const Module& m, float* dbar, float* ubar) const;
  // The routed copies (training) or the averages (written into dbar_, ubar_).
  void weights(const Module& m, const float** D, const float** U);
  const float* dropped(const Module& m, const float* z, int64_t N);

  const Model* model_;
  AdamixConfig config_;
  ParamStore params_;
  SiteModules<Module> modules_;
  int64_t max_n_ = 0, capacity_ = 0, acts_per_token_ = 0;
  std::vector<PassActs> passes_;
  std::vector<float> zd_, dzd_, wide_;  // (capacity, max_n) dropped input, its gradient, ∂L/∂y_base
  std::vector<float> g_, gh_;           // (capacity, b) ∂L/∂a, ∂L/∂h
  std::vector<float> dbar_, ubar_;      // (b, max_n), (max_n, b) averaged module
  std::vector<float> ddbar_, dubar_;    // their gradients (inference-mode backward)
};

}  // namespace peft
