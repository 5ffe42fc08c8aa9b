// Prompt tuning (Lester et al. 2021) as PEFT: num_virtual_tokens learned input embeddings
// prepended to every sequence before the first block.
#pragma once
#include <memory>

#include "adapters/adapter.h"
#include "adapters/prompt/prompt_tuning_config.h"

namespace peft {

class PromptTuningAdapter final : public Adapter {
 public:
  static Result<std::unique_ptr<PromptTuningAdapter>> create(const Model& model, const PromptTuningConfig& config,
                                                             uint64_t seed);
  std::string method() const override { return "prompt"; }
  Json config_json() const override { return config_.to_json(*model_); }
  ParamStore& params() override { return params_; }
  const ParamStore& params() const override { return params_; }
  void reserve(int64_t) override {}

  int64_t num_virtual_tokens() const override { return config_.num_virtual_tokens; }
  void virtual_embeddings(float* out) override;
  void virtual_embeddings_backward(const float* d, int64_t B, int64_t rows) override;

 private:
  PromptTuningAdapter(const Model& model, PromptTuningConfig config) : model_(&model), config_(std::move(config)) {}
  const Model* model_;
  PromptTuningConfig config_;
  ParamStore params_;  // "prompt_embeddings" (nv, Ce)
};

}  // namespace peft
