// Named sites where adapters attach, and the hook interface the decoder calls at each one.
#pragma once
#include <cstdint>
#include <string>

#include "model/model.h"

namespace peft {

// Every projection of a block is a site (DESIGN.md "Adapters attach at named sites").
enum class Site : uint8_t { AttnQ, AttnK, AttnV, AttnQKV, AttnO, FfnGate, FfnUp, FfnDown };
constexpr int kNumLinearSites = 8;
constexpr Site kLinearSites[kNumLinearSites] = {Site::AttnQ,   Site::AttnK, Site::AttnV,
                                                Site::AttnQKV, Site::AttnO, Site::FfnGate,
                                                Site::FfnUp,   Site::FfnDown};

const char* site_name(Site site);

// The base projection at `site` of a layer; nullptr when the architecture has none there.
const Linear* linear_at(const LayerWeights& w, Site site);
Linear* linear_at(LayerWeights& w, Site site);

// Hugging Face module path of the projection, e.g. "model.layers.3.self_attn.q_proj";
// empty when the architecture has no such projection.
std::string module_path(const Model& m, Site site, int64_t layer);

// What the decoder calls around every projection y = x Wᵀ + b (x (N, in), y (N, out)).
// Adapters implement it; the model layer knows nothing else about them.
class SiteHooks {
 public:
  virtual ~SiteHooks() = default;
  // After the base projection: modify y in place (e.g. y += s·B A x).
  virtual void linear_forward(Site site, int64_t layer, const float* x, float* y, int64_t N) = 0;
  // Given dy = ∂L/∂y: accumulate adapter parameter gradients and dx += the adapter's ∂L/∂x.
  virtual void linear_backward(Site site, int64_t layer, const float* x, const float* dy,
                               float* dx, int64_t N) = 0;
};

}  // namespace peft
