// AdaLink: per-modality low-rank embedding adapters, their backward and folding.
#include "adapters/adalink/adalink.h"

#include <cmath>
#include <cstring>

#include "core/rng.h"

namespace peft {

Result<std::unique_ptr<AdaLinkAdapter>> AdaLinkAdapter::create(const Model& model, const AdaLinkConfig& config,
                                                               uint64_t seed) {
  std::unique_ptr<AdaLinkAdapter> a(new AdaLinkAdapter(model, config));
  if (auto act = config.kernel_activation()) a->act_ = *act;
  const int64_t d = model.config.embd_in(), r = config.rank;
  for (const std::string& m : config.modalities) {
    a->params_.add("adalink." + m + ".down", {r, d});
    a->params_.add("adalink." + m + ".up", {d, r});
  }
  PEFT_TRY(a->params_.finalize(model));
  Rng rng(seed);
  const float bound = 1.0f / std::sqrt(float(d));
  for (size_t i = 0; i < config.modalities.size(); ++i) {
    float* D = a->params_[2 * i].value.f32();
    for (int64_t k = 0; k < r * d; ++k) D[k] = (2.f * rng.uniform() - 1.f) * bound;
  }
  return a;
}

int64_t AdaLinkAdapter::modality_id(const std::string& name) const {
  for (size_t i = 0; i < config_.modalities.size(); ++i)
    if (config_.modalities[i] == name) return int64_t(i);
  return -1;
}

void AdaLinkAdapter::reserve(int64_t max_tokens) {
  if (max_tokens <= capacity_) return;
  const int64_t d = model_->config.embd_in(), r = config_.rank;
  acts_.reserve(Arena::bytes_for(DType::F32, {max_tokens, d}) + Arena::bytes_for(DType::F32, {max_tokens, r}));
  e_ = acts_.alloc_f32({max_tokens, d}).f32();
  h_ = acts_.alloc_f32({max_tokens, r}).f32();
  capacity_ = max_tokens;
}

void AdaLinkAdapter::apply(int64_t m, const float* e, float* out, float* h) const {
  const int64_t d = model_->config.embd_in(), r = config_.rank;
  const float* D = params_[size_t(2 * m)].value.f32();
  const float* U = params_[size_t(2 * m + 1)].value.f32();
  float hb[64], ab[64];
  float* hv = h ? h : hb;
  PEFT_CHECK(r <= 64 || h, "AdaLink rank {} needs the saved-activation buffer", r);
  for (int64_t k = 0; k < r; ++k) {
    float s = 0.f;
    for (int64_t i = 0; i < d; ++i) s += D[k * d + i] * e[i];
    hv[k] = s;
  }
  if (config_.activation == "tanh") {
    for (int64_t k = 0; k < r; ++k) ab[k] = std::tanh(hv[k]);
  } else {
    activation_forward(act_, ab, hv, r);
  }
  for (int64_t i = 0; i < d; ++i) {
    float s = 0.f;
    for (int64_t k = 0; k < r; ++k) s += U[i * r + k] * ab[k];
    out[i] = e[i] + s;
  }
}

void AdaLinkAdapter::embed_forward(float* e, const int32_t* modality, int64_t N) {
  reserve(N);
  const int64_t d = model_->config.embd_in(), r = config_.rank, M = int64_t(config_.modalities.size());
  std::memcpy(e_, e, size_t(N * d) * sizeof(float));
#pragma omp parallel for
  for (int64_t n = 0; n < N; ++n) {
    const int64_t m = modality ? modality[n] : 0;
    PEFT_CHECK(m >= 0 && m < M, "modality id {} outside the adapter's {} modalities", m, M);
    apply(m, e_ + n * d, e + n * d, h_ + n * r);
  }
}

// e' = e + U a, a = act(h), h = D e:  ∂U += d' aᵀ;  ∂h = act'(h) ⊙ Uᵀ d';  ∂D += ∂h eᵀ;
// ∂e = d' + Dᵀ ∂h. Tokens of one modality share parameters, so the gradient loops run per
// modality, serially over tokens (no races on ∂U, ∂D).
void AdaLinkAdapter::embed_backward(float* dgrad, const int32_t* modality, int64_t N) {
  const int64_t d = model_->config.embd_in(), r = config_.rank;
  std::vector<float> a(static_cast<size_t>(r)), da(static_cast<size_t>(r)), dh(static_cast<size_t>(r));
  for (int64_t n = 0; n < N; ++n) {
    const int64_t m = modality ? modality[n] : 0;
    Param& Dp = params_[size_t(2 * m)];
    Param& Up = params_[size_t(2 * m + 1)];
    const float* D = Dp.value.f32();
    const float* U = Up.value.f32();
    float* dD = Dp.grad.f32();
    float* dU = Up.grad.f32();
    const float* h = h_ + n * r;
    const float* e = e_ + n * d;
    float* g = dgrad + n * d;
    for (int64_t k = 0; k < r; ++k) a[size_t(k)] = config_.activation == "tanh" ? std::tanh(h[k]) : h[k];
    if (config_.activation != "tanh" && act_ != Activation::Identity) activation_forward(act_, a.data(), h, r);
    for (int64_t k = 0; k < r; ++k) {
      float s = 0.f;
      for (int64_t i = 0; i < d; ++i) {
        dU[i * r + k] += g[i] * a[size_t(k)];
        s += U[i * r + k] * g[i];
      }
      da[size_t(k)] = s;
    }
    if (config_.activation == "tanh") {
      for (int64_t k = 0; k < r; ++k) dh[size_t(k)] = da[size_t(k)] * (1.f - a[size_t(k)] * a[size_t(k)]);
    } else {
      std::fill(dh.begin(), dh.end(), 0.f);
      activation_backward(act_, dh.data(), da.data(), h, r);
    }
    for (int64_t k = 0; k < r; ++k)
      for (int64_t i = 0; i < d; ++i) {
        dD[k * d + i] += dh[size_t(k)] * e[i];
        g[i] += D[k * d + i] * dh[size_t(k)];
      }
  }
}

Status AdaLinkAdapter::merge_into(Model& model) const {
  if (config_.modalities.size() != 1)
    return Status::errorf(
        "AdaLink with {} modalities cannot fold into the embedding table (only text-only adapters can); serve it with "
        "--adapter",
        config_.modalities.size());
  const int64_t V = model.config.n_vocab, d = model.config.embd_in();
  OwnedTensor table = to_f32(model.tok_embd);
  OwnedTensor folded(DType::F32, {V, d});
  std::vector<float> h(static_cast<size_t>(config_.rank));
  for (int64_t v = 0; v < V; ++v) apply(0, table.f32() + v * d, folded.f32() + v * d, h.data());
  if (model.config.block.tied_embeddings) {  // the head keeps the original table: untie
    model.config.block.tied_embeddings = false;
    model.names.lm_head_w = "lm_head.weight";
    model.hf_config["tie_word_embeddings"] = false;
  }
  replace_weight(model, model.tok_embd, std::move(folded));
  return Status::ok();
}

}  // namespace peft
