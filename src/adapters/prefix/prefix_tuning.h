// Prefix tuning (Li & Liang 2021) as PEFT: learned key/value rows prepended in every layer.
#pragma once
#include <memory>

#include "adapters/adapter.h"
#include "adapters/prefix/prefix_tuning_config.h"

namespace peft {

// prompt_embeddings E (nv, 2·L·D), D = Hkv·hd, viewed as (nv, 2L, Hkv, hd). Layer l's keys
// are slot 2l and its values slot 2l+1 — except BLOOM, where PEFT 0.6.2 puts keys in slots
// 0..L−1 and values in L..2L−1 and reinterprets the key slot's memory in BLOOM's (H, hd, nv)
// key layout (fixtures README); both are reproduced exactly.
class PrefixTuningAdapter final : public Adapter {
 public:
  static Result<std::unique_ptr<PrefixTuningAdapter>> create(const Model& model, const PrefixTuningConfig& config,
                                                             uint64_t seed);
  std::string method() const override { return "prefix"; }
  Json config_json() const override { return config_.to_json(*model_); }
  ParamStore& params() override { return params_; }
  const ParamStore& params() const override { return params_; }
  void reserve(int64_t) override {}

  int64_t num_prefix_tokens() const override { return config_.num_virtual_tokens; }
  std::vector<NamedTensor> export_tensors() const override;
  void prefix_kv(int64_t layer, float* k, float* v, int64_t B, int64_t kv_rows) override;
  void prefix_kv_backward(int64_t layer, const float* dk, const float* dv, int64_t B, int64_t kv_rows) override;

 private:
  PrefixTuningAdapter(const Model& model, PrefixTuningConfig config) : model_(&model), config_(std::move(config)) {}
  // Offset in E of element (v, h, d) of layer l's key (value = false) or value prefix.
  int64_t offset(int64_t layer, bool value, int64_t v, int64_t h, int64_t d) const;
  // The (nv, 2·L·D) table E: the parameter itself, or the projection MLP's output.
  const float* table() const;
  float* table_grad();
  void project_forward();   // E_ = W2 tanh(W1 emb + b1) + b2
  void project_backward();  // dE_ → the MLP's parameter gradients, then dE_ = 0

  const Model* model_;
  PrefixTuningConfig config_;
  ParamStore params_;               // "prompt_embeddings" (nv, 2·L·D), or the embedding + MLP
  std::vector<float> e_, de_, a1_;  // projection: E (nv, 2LD), ∂E, tanh activations (nv, H)
};

}  // namespace peft
