// AdamW with torch.optim.AdamW's exact update order (PyTorch 1.13, amsgrad off).
#pragma once
#include <cstdint>

namespace peft {

struct AdamWHyper {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
};

// One step t (1-based) on n parameters:
//   p *= 1 − lr·wd;  m = β1 m + (1−β1) g;  v = β2 v + (1−β2) g²;
//   p −= (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps)
void adamw_step(float* p, const float* g, float* m, float* v, int64_t n, int64_t t, const AdamWHyper& h);

}  // namespace peft
