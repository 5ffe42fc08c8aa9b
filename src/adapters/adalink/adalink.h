// AdaLink (arXiv 2310.12100): a low-rank residual module per modality between the token
// embeddings and the first block, e' = e + U_m · act(D_m · e); the model stays untouched.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "adapters/adalink/adalink_config.h"
#include "adapters/adapter.h"
#include "core/arena.h"
#include "kernels/activations.h"

namespace peft {

class AdaLinkAdapter final : public Adapter {
 public:
  // D_m Kaiming-uniform (bound 1/√d), U_m zero: the model equals the base at init.
  static Result<std::unique_ptr<AdaLinkAdapter>> create(const Model& model, const AdaLinkConfig& config, uint64_t seed);
  std::string method() const override { return "adalink"; }
  Json config_json() const override { return config_.to_json(*model_); }
  ParamStore& params() override { return params_; }
  const ParamStore& params() const override { return params_; }
  std::vector<std::string> modalities() const override { return config_.modalities; }
  void reserve(int64_t max_tokens) override;
  // Text-only adapters fold into the embedding table exactly (each row depends only on
  // itself); a tied LM head keeps the original table, so the folded model is untied.
  Status merge_into(Model& model) const override;

  bool has_embed_hook() const override { return true; }
  void embed_forward(float* e, const int32_t* modality, int64_t N) override;
  void embed_backward(float* d, const int32_t* modality, int64_t N) override;

  int64_t modality_id(const std::string& name) const;  // −1 when unknown
  const AdaLinkConfig& config() const { return config_; }

 private:
  AdaLinkAdapter(const Model& model, AdaLinkConfig config) : model_(&model), config_(std::move(config)) {}
  // e' (d) = e + U act(D e) for one token; keeps h = D e in `h` when non-null.
  void apply(int64_t m, const float* e, float* out, float* h) const;

  const Model* model_;
  AdaLinkConfig config_;
  Activation act_ = Activation::Identity;
  ParamStore params_;  // per modality: "adalink.<m>.down" (r, d), "adalink.<m>.up" (d, r)
  int64_t capacity_ = 0;
  Arena acts_;
  float* e_ = nullptr;  // (capacity, d) the original embeddings, kept for the backward
  float* h_ = nullptr;  // (capacity, r) D e
};

}  // namespace peft
