// LoRA (Hu et al. 2021) with PEFT's semantics: y = W x + b + s · B A dropout(x).
#pragma once
#include <memory>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/lora/lora_config.h"
#include "adapters/lora/lora_gguf.h"
#include "adapters/site_modules.h"
#include "core/arena.h"

namespace peft {

class LoraAdapter final : public Adapter {
 public:
  // Creates A (r, in) and B (out, r) for every selected projection and initialises them
  // as PEFT does (A Kaiming-uniform with bound 1/√in or N(0, 1/r²); B zero), seeded.
  static Result<std::unique_ptr<LoraAdapter>> create(const Model& model, const LoraConfig& config, uint64_t seed);

  std::string method() const override { return "lora"; }
  Json config_json() const override { return config_.to_json(*model_); }
  ParamStore& params() override { return params_; }
  const ParamStore& params() const override { return params_; }
  void reserve(int64_t max_tokens) override;
  Status merge_into(Model& model) const override;
  Status set_scale(double scale) override;
  std::vector<std::string> export_formats() const override { return {"gguf-lora"}; }
  Status export_as(const std::string& format, const Model& model, const AdapterExportOptions& options,
                   const std::string& out) const override;

  void linear_output(Site site, int64_t layer, const float* x, float* y, int64_t N) override;
  const float* linear_output_backward(Site site, int64_t layer, const float* x, const float* dy, float* dx,
                                      int64_t N) override;

  const LoraConfig& config() const { return config_; }
  // Every adapted projection's A and B (views into the parameters).
  std::vector<LoraPair> pairs() const;

 private:
  struct Module {
    SiteRef ref;
    int64_t in = 0, out = 0;
    size_t a = 0, b = 0;  // indices into params_
    float* u = nullptr;   // (max_tokens, r) s · A · dropout(x), kept for the backward
  };
  LoraAdapter(const Model& model, LoraConfig config) : model_(&model), config_(std::move(config)) {}
  // x_d (N, in) = dropout(x) with the mask of (module, current seed); returns x when off.
  const float* dropped_input(const Module& m, size_t index, const float* x, int64_t N, float* x_d) const;

  const Model* model_;
  LoraConfig config_;
  float scaling_ = 1.f;
  ParamStore params_;
  SiteModules<Module> modules_;
  int64_t max_in_ = 0, capacity_ = 0;
  Arena acts_;
  float* g_ = nullptr;    // (capacity, r) scratch for ∂L/∂(A x)
  float* xd_ = nullptr;   // (capacity, max_in) dropped input
  float* dxd_ = nullptr;  // (capacity, max_in) gradient w.r.t. the dropped input
};

}  // namespace peft
