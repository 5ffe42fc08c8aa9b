// Named sites where adapters attach, and the hook interface the decoder calls at each one.
#pragma once
#include <cstdint>
#include <string>

#include "model/model.h"

namespace peft {

// Every projection of a block is a site (DESIGN.md "Adapters attach at named sites").
enum class Site : uint8_t { AttnQ, AttnK, AttnV, AttnQKV, AttnO, FfnGate, FfnUp, FfnDown };
constexpr int kNumLinearSites = 8;
constexpr Site kLinearSites[kNumLinearSites] = {Site::AttnQ, Site::AttnK,   Site::AttnV, Site::AttnQKV,
                                                Site::AttnO, Site::FfnGate, Site::FfnUp, Site::FfnDown};

const char* site_name(Site site);

// The base projection at `site` of a layer; nullptr when the architecture has none there.
const Linear* linear_at(const LayerWeights& w, Site site);
Linear* linear_at(LayerWeights& w, Site site);

// Hugging Face module path of the projection, e.g. "model.layers.3.self_attn.q_proj";
// empty when the architecture has no such projection.
std::string module_path(const Model& m, Site site, int64_t layer);

// What the decoder calls around every projection y = x Wᵀ + b (x (N, in), y (N, out)):
//   x' = linear_input(x);  y = x' Wᵀ + b;  linear_output(x, y)
// and in the backward, given dy = ∂L/∂y:
//   dy' = linear_output_backward(x, dy, dx);  ∂L/∂x' = dy' W;  linear_input_backward(x, ∂L/∂x', dx)
// Adapters implement it; the model layer knows nothing else about them.
// A trainable copy of a task-head layer (PEFT's modules_to_save): weight (out, in), bias (out)
// and their gradients, all F32.
struct HeadLayerParams {
  float* w = nullptr;
  float* b = nullptr;
  float* dw = nullptr;
  float* db = nullptr;
};

class SiteHooks {
 public:
  virtual ~SiteHooks() = default;
  // Input side (a scale on a feed-forward input, an adapter before the projection): returns the input the
  // base projection sees, (N, in); x itself when untouched.
  virtual const float* linear_input(Site site, int64_t layer, const float* x, int64_t N) { return x; }
  virtual bool has_input_hook(Site site, int64_t layer) const { return false; }
  // dx (N, in) += ∂L/∂x given dx_eff = ∂L/∂x'; accumulates the hook's parameter gradients.
  virtual void linear_input_backward(Site site, int64_t layer, const float* x, const float* dx_eff, float* dx,
                                     int64_t N) {}

  // Output side: y (N, out) holds x' Wᵀ + b; modify it in place (a low-rank update adds
  // s·B A x, a scaling multiplies, a series adapter adds A(y)). x is the original input.
  virtual void linear_output(Site site, int64_t layer, const float* x, float* y, int64_t N) {}
  // Given dy = ∂L/∂y: accumulates parameter gradients, adds to dx (N, in) what flows to x
  // directly (a low-rank update's path), and returns ∂L/∂(x' Wᵀ + b) — dy itself for additive hooks.
  virtual const float* linear_output_backward(Site site, int64_t layer, const float* x, const float* dy, float* dx,
                                              int64_t N) {
    return dy;
  }

  // Embed site (prompt tuning): virtual tokens prepended to every row before block 0. They
  // go through the embedding path (positions, embedding norm) like real tokens.
  virtual int64_t num_virtual_tokens() const { return 0; }
  virtual void virtual_embeddings(float* out) {}  // out (nv, Ce)
  // d (B·rows, Ce) holds ∂L/∂embeddings of whole rows of `rows` positions; the virtual
  // tokens are positions [0, nv) of each row.
  virtual void virtual_embeddings_backward(const float* d, int64_t B, int64_t rows) {}

  // Embed site, input-centric: transform the token embeddings (N, Ce) in place
  // before positions and norms; modality (N) gives each token's modality id (null = all 0).
  virtual bool has_embed_hook() const { return false; }
  virtual void embed_forward(float* e, const int32_t* modality, int64_t N) {}
  // d (N, Ce): ∂L/∂(transformed embeddings) in, ∂L/∂(original embeddings) out; accumulates
  // the hook's parameter gradients.
  virtual void embed_backward(float* d, const int32_t* modality, int64_t N) {}

  // KvPrefix site (prefix tuning): key/value rows that every layer's attention sees before
  // the real tokens (no RoPE, no projection); real tokens' positions start after them.
  virtual int64_t num_prefix_tokens() const { return 0; }
  // Writes rows [0, P) of each batch item of k, v (B, kv_rows, Hkv·hd).
  virtual void prefix_kv(int64_t layer, float* k, float* v, int64_t B, int64_t kv_rows) {}
  // Accumulates from rows [0, P) of dk, dv (B, kv_rows, Hkv·hd).
  virtual void prefix_kv_backward(int64_t layer, const float* dk, const float* dv, int64_t B, int64_t kv_rows) {}

  // Head site (encoders' task heads): the trainable copy of Model::head[i], whose gradients
  // the head's backward accumulates; null = the model's own layer, frozen.
  virtual const HeadLayerParams* head_layer(int64_t i) const { return nullptr; }
};

}  // namespace peft
