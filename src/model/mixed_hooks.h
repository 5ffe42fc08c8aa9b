// Rows of one forward that run with different hooks: the mixed-adapter batch of a server's
// decode step. LoRA and IA3 rows share the base product and add their own terms; bottleneck
// rows run their module; AdaLink rows transform their own embeddings.
#pragma once
#include <cstdint>
#include <vector>

#include "model/model.h"
#include "model/site.h"

namespace peft {

// Rows [begin, end) of the forward's (N) token rows run with `hooks` (null: the bare base).
struct HookSegment {
  int64_t begin = 0, end = 0;
  SiteHooks* hooks = nullptr;
};

// Dispatches every row-wise hook to the segment a row belongs to. The rows of one adapter
// are consecutive (the caller sorts its batch by adapter), so each adapter runs its
// low-rank product, scaling or module once over its block of rows — Punica's segmented
// gather (SGMV) on a CPU, with the base projection shared by every row.
//
// Only row-wise hooks can mix: a decode step (no virtual tokens, no prefix writes; a
// sequence's prefix and virtual tokens went in with its prefill, alone). Inference only.
class MixedHooks : public SiteHooks {
 public:
  explicit MixedHooks(const Model& model) : m_(model) {}
  // Segments cover [0, N) of the next forward in order; gaps run bare.
  void set_segments(std::vector<HookSegment> segments);

  const float* linear_input(Site site, int64_t layer, const float* x, int64_t N) override;
  bool has_input_hook(Site site, int64_t layer) const override;
  void linear_output(Site site, int64_t layer, const float* x, float* y, int64_t N) override;
  bool has_embed_hook() const override;
  void embed_forward(float* e, const int32_t* modality, int64_t N) override;

 private:
  const Model& m_;
  std::vector<HookSegment> segments_;
  std::vector<float> input_;  // (N, in) the adapted inputs of one projection
};

}  // namespace peft
