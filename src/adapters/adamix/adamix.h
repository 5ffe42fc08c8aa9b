// AdaMix (Wang et al. 2022, arXiv 2210.17451) over LoRA: a mixture of E LoRA modules per
// projection, one expert picked at random per forward while training (stochastic routing),
// the averaged module at inference, and a consistency loss between two routed passes.
#pragma once
#include <memory>
#include <vector>

#include "adapters/adamix/adamix_config.h"
#include "adapters/adapter.h"
#include "adapters/lora/lora.h"
#include "adapters/site_modules.h"

namespace peft {

// Parameters (per selected projection, PEFT-style keys):
//   base_model.model.<path>.lora_A.<i>.weight  (r, in),  i < num_down() (1 when share_down)
//   base_model.model.<path>.lora_B.<i>.weight  (out, r), i < num_up()   (1 when share_up)
// Training (mode().training): y += s · B_j A_k dropout(x), where for module m (the m-th
// selected projection, layer-then-site order) k = route(routing_seed, m, 0, num_down()) and
// j = route(routing_seed, m, 1, num_up()); the whole micro-batch shares the pick.
// Otherwise: y += s · B̄ Ā x with Ā, B̄ the means of the copies, computed from the current
// values at every call (no cache that could go stale).
class AdamixAdapter final : public Adapter {
 public:
  // Every copy starts identical: A Kaiming-uniform (bound 1/√in) drawn once, B zero.
  static Result<std::unique_ptr<AdamixAdapter>> create(const Model& model, const AdamixConfig& config, uint64_t seed);

  // The routing hash: SplitMix64's finaliser over seed ⊕ module·φ ⊕ side·c, the same counter
  // hash as LoRA's dropout (see adamix.cpp), reduced mod num:
  //   z = seed ^ (module * 0x9e3779b97f4a7c15) ^ (side * 0xbf58476d1ce4e5b9)
  //   z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;  z = (z ^ (z >> 27)) * 0x94d049bb133111eb
  //   z ^= z >> 31;  expert = z % num                  (all arithmetic mod 2⁶⁴)
  static int64_t route(uint64_t routing_seed, uint64_t module, uint64_t side, int64_t num);

  std::string method() const override { return "adamix"; }
  Json config_json() const override { return config_.to_json(*model_); }
  ParamStore& params() override { return params_; }
  const ParamStore& params() const override { return params_; }
  void reserve(int64_t max_tokens) override;
  double consistency_weight() const override { return config_.consistency_weight; }
  // With λ > 0: two routed passes and the consistency loss (consistency_step.h).
  std::unique_ptr<TrainStep> make_train_step(Decoder& dec) override;
  int train_step_decoders() const override { return config_.consistency_weight > 0 ? 2 : 1; }
  // Folds the averaged module: W += s · B̄ Ā.
  Status merge_into(Model& model) const override;
  Status set_scale(double scale) override;
  // Its averaged experts as a plain LoRA: a PEFT folder or a llama.cpp GGUF adapter.
  std::vector<std::string> export_formats() const override { return {"peft-lora", "gguf-lora"}; }
  Status export_as(const std::string& format, const Model& model, const AdapterExportOptions& options,
                   const std::string& out) const override;

  void linear_output(Site site, int64_t layer, const float* x, float* y, int64_t N) override;
  const float* linear_output_backward(Site site, int64_t layer, const float* x, const float* dy, float* dx,
                                      int64_t N) override;

  // The averaged module as a plain PEFT LoRA adapter (same r, alpha, targets), for serving
  // with PEFT / llama.cpp; save it with save_adapter.
  Result<std::unique_ptr<LoraAdapter>> to_plain_lora() const;
  const AdamixConfig& config() const { return config_; }

 private:
  struct Module {
    SiteRef ref;
    int64_t in = 0, out = 0;
    size_t a0 = 0, b0 = 0;  // params_ indices of copy 0 of A and of B (copies follow)
  };
  AdamixAdapter(const Model& model, AdamixConfig config) : model_(&model), config_(std::move(config)) {}
  // Ā (r, in) and B̄ (out, r) of a module into abar, bbar.
  void average(const Module& m, float* abar, float* bbar) const;
  const float* dropped_input(const Module& m, size_t index, const float* x, int64_t N, float* x_d) const;

  const Model* model_;
  AdamixConfig config_;
  float scaling_ = 1.f;
  ParamStore params_;
  SiteModules<Module> modules_;
  int64_t max_in_ = 0, max_out_ = 0, capacity_ = 0;
  std::vector<float> u_, g_, xd_, dxd_;             // (capacity, r) ×2, (capacity, max_in) ×2
  std::vector<float> abar_, bbar_, dabar_, dbbar_;  // averaged module and its gradients
};

}  // namespace peft
