// Optimizer state over an adapter's flat parameter store: AdamW moments, clipping, steps.
#pragma once
#include <cstdint>
#include <vector>

#include "adapters/param_store.h"
#include "kernels/adamw.h"

namespace peft {

class AdamW {
 public:
  AdamW(ParamStore& params, const AdamWHyper& hyper);
  // One update with learning rate `lr` (the schedule's value for this step).
  void step(float lr);
  int64_t steps_taken() const { return t_; }
  std::vector<float>& exp_avg() { return m_; }     // (numel) first moments
  std::vector<float>& exp_avg_sq() { return v_; }  // (numel) second moments
  void set_steps_taken(int64_t t) { t_ = t; }

 private:
  ParamStore& params_;
  AdamWHyper hyper_;
  std::vector<float> m_, v_;
  int64_t t_ = 0;
};

// ‖g‖₂ over the whole store (double accumulation).
double grad_norm(const ParamStore& params);
// torch.nn.utils.clip_grad_norm_: if norm > max, g *= max / (norm + 1e-6). Returns the
// norm before clipping. max <= 0 disables clipping.
double clip_grad_norm(ParamStore& params, double max_norm);
// g *= factor (gradient accumulation's 1/steps).
void scale_grads(ParamStore& params, float factor);

}  // namespace peft
