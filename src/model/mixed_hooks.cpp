// MixedHooks: each segment's hooks see only their own rows.
#include "model/mixed_hooks.h"

#include <cstring>

#include "core/check.h"

namespace peft {

void MixedHooks::set_segments(std::vector<HookSegment> segments) {
  for (size_t i = 0; i < segments.size(); ++i) {
    PEFT_CHECK(segments[i].begin < segments[i].end, "empty hook segment");
    PEFT_CHECK(i == 0 || segments[i].begin >= segments[i - 1].end, "hook segments overlap");
  }
  segments_ = std::move(segments);
}

bool MixedHooks::has_input_hook(Site site, int64_t layer) const {
  for (const HookSegment& s : segments_)
    if (s.hooks && s.hooks->has_input_hook(site, layer)) return true;
  return false;
}

// x' (N, in): each segment's rows as its hooks adapt them, the other rows as they are.
const float* MixedHooks::linear_input(Site site, int64_t layer, const float* x, int64_t N) {
  if (!has_input_hook(site, layer)) return x;
  const int64_t in = linear_at(m_.layers[size_t(layer)], site)->in();
  input_.resize(size_t(N * in));
  std::memcpy(input_.data(), x, size_t(N * in) * sizeof(float));
  for (const HookSegment& s : segments_) {
    if (!s.hooks || !s.hooks->has_input_hook(site, layer)) continue;
    PEFT_CHECK(s.end <= N, "hook segment [{}, {}) past {} rows", s.begin, s.end, N);
    const float* adapted = s.hooks->linear_input(site, layer, x + s.begin * in, s.end - s.begin);
    if (adapted != x + s.begin * in)
      std::memcpy(input_.data() + s.begin * in, adapted, size_t((s.end - s.begin) * in) * sizeof(float));
  }
  return input_.data();
}

void MixedHooks::linear_output(Site site, int64_t layer, const float* x, float* y, int64_t N) {
  const Linear* lin = linear_at(m_.layers[size_t(layer)], site);
  const int64_t in = lin->in(), out = lin->out();
  for (const HookSegment& s : segments_) {
    if (!s.hooks) continue;
    PEFT_CHECK(s.end <= N, "hook segment [{}, {}) past {} rows", s.begin, s.end, N);
    s.hooks->linear_output(site, layer, x + s.begin * in, y + s.begin * out, s.end - s.begin);
  }
}

bool MixedHooks::has_embed_hook() const {
  for (const HookSegment& s : segments_)
    if (s.hooks && s.hooks->has_embed_hook()) return true;
  return false;
}

void MixedHooks::embed_forward(float* e, const int32_t* modality, int64_t N) {
  const int64_t Ce = m_.config.embd_in();
  for (const HookSegment& s : segments_) {
    if (!s.hooks || !s.hooks->has_embed_hook()) continue;
    PEFT_CHECK(s.end <= N, "hook segment [{}, {}) past {} rows", s.begin, s.end, N);
    s.hooks->embed_forward(e + s.begin * Ce, modality ? modality + s.begin : nullptr, s.end - s.begin);
  }
}

}  // namespace peft
