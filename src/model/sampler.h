// Next-token choice: greedy, or temperature with top-k / top-p, reproducible under a seed.
#pragma once
#include <cstdint>
#include <vector>

#include "core/rng.h"

namespace peft {

struct SamplingOptions {
  float temperature = 0.f;  // 0 → greedy (argmax)
  int64_t top_k = 0;        // 0 → off
  float top_p = 1.f;        // 1 → off
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& opt) : opt_(opt), rng_(opt.seed) {}
  // logits (V) → token id. Ties in greedy mode go to the lowest id (like torch.argmax).
  int32_t sample(const float* logits, int64_t V);

 private:
  SamplingOptions opt_;
  Rng rng_;
  std::vector<std::pair<float, int32_t>> candidates_;
};

int32_t argmax(const float* x, int64_t n);

}  // namespace peft
