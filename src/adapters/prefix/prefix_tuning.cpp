// Prefix tuning: per-layer key/value prefixes read from (and gradients written to) one table.
#include "adapters/prefix/prefix_tuning.h"

#include <algorithm>
#include <cmath>

#include "core/rng.h"

namespace peft {

Result<std::unique_ptr<PrefixTuningAdapter>> PrefixTuningAdapter::create(const Model& model,
                                                                         const PrefixTuningConfig& config,
                                                                         uint64_t seed) {
  std::unique_ptr<PrefixTuningAdapter> a(new PrefixTuningAdapter(model, config));
  const ModelConfig& mc = model.config;
  const int64_t nv = config.num_virtual_tokens, D = mc.kv_dim(), out = 2 * mc.n_layer * D;
  Rng rng(seed);
  if (!config.projection) {
    a->params_.add("prompt_embeddings", {nv, out});
    PEFT_TRY(a->params_.finalize(model, kPromptLearningHeadPrefix));
    for (int64_t i = 0; i < a->params_.method_numel(); ++i) a->params_.values()[i] = rng.normal();  // nn.Embedding
    return a;
  }
  const int64_t H = config.encoder_hidden_size;
  a->params_.add("prefix_encoder.embedding.weight", {nv, D});
  a->params_.add("prefix_encoder.transform.0.weight", {H, D});
  a->params_.add("prefix_encoder.transform.0.bias", {H});
  a->params_.add("prefix_encoder.transform.2.weight", {out, H});
  a->params_.add("prefix_encoder.transform.2.bias", {out});
  PEFT_TRY(a->params_.finalize(model, kPromptLearningHeadPrefix));
  // nn.Embedding: N(0, 1); nn.Linear: U(±1/√fan_in) for weight and bias.
  for (int64_t i = 0; i < nv * D; ++i) a->params_[0].value.f32()[i] = rng.normal();
  for (size_t p = 1; p < 5; ++p) {
    const float bound = 1.f / std::sqrt(float(p <= 2 ? D : H));
    for (int64_t i = 0; i < a->params_[p].value.numel(); ++i)
      a->params_[p].value.f32()[i] = (2.f * rng.uniform() - 1.f) * bound;
  }
  a->e_.assign(size_t(nv * out), 0.f);
  a->de_.assign(size_t(nv * out), 0.f);
  a->a1_.assign(size_t(nv * H), 0.f);
  return a;
}

int64_t PrefixTuningAdapter::offset(int64_t layer, bool value, int64_t v, int64_t h, int64_t d) const {
  const ModelConfig& mc = model_->config;
  const int64_t L = mc.n_layer, D = mc.kv_dim(), hd = mc.head_dim, nv = config_.num_virtual_tokens;
  const int64_t row = 2 * L * D;  // one virtual token's slice of E
  if (mc.arch != "bloom") return v * row + (2 * layer + (value ? 1 : 0)) * D + h * hd + d;
  if (value) return v * row + (L + layer) * D + h * hd + d;
  // BLOOM key: element (h, d, v) of the (H, hd, nv) key layout is flat[h·hd·nv + d·nv + v]
  // of the slot's memory read row-major over (v', h', d').
  const int64_t f = h * hd * nv + d * nv + v;
  return (f / D) * row + layer * D + f % D;
}

const float* PrefixTuningAdapter::table() const { return config_.projection ? e_.data() : params_.values(); }
float* PrefixTuningAdapter::table_grad() { return config_.projection ? de_.data() : params_.grads(); }

// E (nv, out) = W2 · tanh(W1 · emb + b1) + b2, row by row (tiny: nv rows).
void PrefixTuningAdapter::project_forward() {
  const int64_t nv = config_.num_virtual_tokens, D = model_->config.kv_dim(), H = config_.encoder_hidden_size,
                out = 2 * model_->config.n_layer * D;
  const float *emb = params_[0].value.f32(), *W1 = params_[1].value.f32(), *b1 = params_[2].value.f32(),
              *W2 = params_[3].value.f32(), *b2 = params_[4].value.f32();
  for (int64_t v = 0; v < nv; ++v) {
    for (int64_t h = 0; h < H; ++h) {
      float s = b1[h];
      for (int64_t i = 0; i < D; ++i) s += W1[h * D + i] * emb[v * D + i];
      a1_[size_t(v * H + h)] = std::tanh(s);
    }
#pragma omp parallel for
    for (int64_t o = 0; o < out; ++o) {
      float s = b2[o];
      for (int64_t h = 0; h < H; ++h) s += W2[o * H + h] * a1_[size_t(v * H + h)];
      e_[size_t(v * out + o)] = s;
    }
  }
}

// Through E = W2 a + b2, a = tanh(W1 e + b1):  ∂W2 += ∂E aᵀ; ∂b2 += ∂E; ∂a = W2ᵀ ∂E;
// ∂h = ∂a (1 − a²); ∂W1 += ∂h eᵀ; ∂b1 += ∂h; ∂emb += W1ᵀ ∂h.
void PrefixTuningAdapter::project_backward() {
  const int64_t nv = config_.num_virtual_tokens, D = model_->config.kv_dim(), H = config_.encoder_hidden_size,
                out = 2 * model_->config.n_layer * D;
  const float *emb = params_[0].value.f32(), *W1 = params_[1].value.f32(), *W2 = params_[3].value.f32();
  float *demb = params_[0].grad.f32(), *dW1 = params_[1].grad.f32(), *db1 = params_[2].grad.f32(),
        *dW2 = params_[3].grad.f32(), *db2 = params_[4].grad.f32();
  std::vector<float> dh(static_cast<size_t>(H));
  for (int64_t v = 0; v < nv; ++v) {
    const float* dE = de_.data() + v * out;
    const float* a = a1_.data() + v * H;
    for (int64_t h = 0; h < H; ++h) {
      double s = 0;
      for (int64_t o = 0; o < out; ++o) {
        dW2[o * H + h] += dE[o] * a[h];
        s += double(W2[o * H + h]) * double(dE[o]);
      }
      dh[size_t(h)] = float(s) * (1.f - a[h] * a[h]);
    }
    for (int64_t o = 0; o < out; ++o) db2[o] += dE[o];
    for (int64_t h = 0; h < H; ++h) {
      db1[h] += dh[size_t(h)];
      for (int64_t i = 0; i < D; ++i) {
        dW1[h * D + i] += dh[size_t(h)] * emb[v * D + i];
        demb[v * D + i] += W1[h * D + i] * dh[size_t(h)];
      }
    }
  }
  std::fill(de_.begin(), de_.end(), 0.f);
}

std::vector<NamedTensor> PrefixTuningAdapter::export_tensors() const {
  if (!config_.projection) return Adapter::export_tensors();
  const_cast<PrefixTuningAdapter*>(this)->project_forward();  // fold the MLP, as PEFT saves it
  const ModelConfig& mc = model_->config;
  std::vector<NamedTensor> out = {
      {"prompt_embeddings",
       Tensor(const_cast<float*>(e_.data()), DType::F32, {config_.num_virtual_tokens, 2 * mc.n_layer * mc.kv_dim()})}};
  for (NamedTensor& t : head_tensors()) out.push_back(std::move(t));
  return out;
}

void PrefixTuningAdapter::prefix_kv(int64_t layer, float* k, float* v, int64_t B, int64_t kv_rows) {
  const ModelConfig& mc = model_->config;
  const int64_t D = mc.kv_dim(), hd = mc.head_dim, nv = config_.num_virtual_tokens;
  if (config_.projection && layer == 0) project_forward();  // once per forward, before layer 0
  const float* E = table();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < nv; ++t)
      for (int64_t h = 0; h < mc.n_head_kv; ++h)
        for (int64_t d = 0; d < hd; ++d) {
          const int64_t dst = (b * kv_rows + t) * D + h * hd + d;
          k[dst] = E[offset(layer, false, t, h, d)];
          v[dst] = E[offset(layer, true, t, h, d)];
        }
}

void PrefixTuningAdapter::prefix_kv_backward(int64_t layer, const float* dk, const float* dv, int64_t B,
                                             int64_t kv_rows) {
  const ModelConfig& mc = model_->config;
  const int64_t D = mc.kv_dim(), hd = mc.head_dim, nv = config_.num_virtual_tokens;
  float* g = table_grad();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < nv; ++t)
      for (int64_t h = 0; h < mc.n_head_kv; ++h)
        for (int64_t d = 0; d < hd; ++d) {
          const int64_t src = (b * kv_rows + t) * D + h * hd + d;
          g[offset(layer, false, t, h, d)] += dk[src];
          g[offset(layer, true, t, h, d)] += dv[src];
        }
  if (config_.projection && layer == 0) project_backward();  // layer 0 is the backward's last
}

}  // namespace peft
