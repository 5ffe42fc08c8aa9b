// Decoder: the full-sequence forward with saved activations, chunked loss, and the backward.
#pragma once
#include <cstdint>
#include <vector>

#include "core/arena.h"
#include "model/block.h"
#include "model/ends.h"
#include "model/model.h"

namespace peft {

class Decoder {
 public:
  // Sizes every buffer for batches of up to (B, T) once; forward/backward never allocate.
  Decoder(const Model& model, int64_t B, int64_t T);

  // Runs the model on ids (B, T). With targets (B, T) (kIgnoreIndex = no loss there) returns
  // the mean cross-entropy over the counted tokens and, if `want_grad`, prepares the backward.
  // Without targets returns 0. T may be smaller than the size reserved.
  float forward(const int32_t* ids, const int32_t* targets, int64_t B, int64_t T,
                bool want_grad = false);
  // Backward of the last forward's loss w.r.t. activations; afterwards d_embed() holds
  // ∂loss/∂(token embeddings) (N, Ce), before positions, projections and norms.
  void backward();
  const float* d_embed() const { return static_cast<const float*>(d_raw_.data); }

  // Hidden state i of the last forward, Hugging Face's output_hidden_states convention:
  // 0 = embedding output (after positions / embedding norm), i = residual stream after
  // block i, n_layer = the LM head's input (after the final norm and any projection).
  const float* hidden_state(int64_t i) const;
  // logits (B·T, V) of the last forward (materialises them; for inspection and tests).
  void logits(float* out) const;
  // Adapters to run at every site (null = the bare model); not owned.
  void set_hooks(SiteHooks* hooks) { hooks_ = hooks; }
  // Number of loss-bearing tokens in the last forward.
  int64_t loss_tokens() const { return loss_tokens_; }
  size_t arena_bytes() const { return arena_.capacity(); }

 private:
  template <typename Alloc>
  void allocate(Alloc& arena);
  BlockRun run_of(int64_t layer) const;

  const Model& m_;
  int64_t maxB_, maxT_;
  int64_t B_ = 0, T_ = 0;
  Arena arena_;
  EmbedActs embed_;
  std::vector<LayerActs> acts_;  // one per layer
  Tensor x_final_;               // (N, C) output of the last block
  HeadActs head_;
  const float* head_in_ = nullptr;  // (N, Ce) the LM head's input in the last forward
  Tensor d_head_in_;             // (N, Ce) ∂loss/∂head input from the chunked loss
  Tensor d_x_[2];                // (N, C) ping-pong gradients of the residual stream
  Tensor d_raw_;                 // (N, Ce) ∂loss/∂token embeddings
  Tensor ce_scratch_;            // (chunk, V)
  Tensor positions_;             // (N) int32
  Tensor targets_;               // (N) int32 shifted targets
  BlockGrads grads_;
  int64_t loss_tokens_ = 0;
  bool have_grad_ = false;
  SiteHooks* hooks_ = nullptr;
};

// Hugging Face's causal-LM shift: targets[b, t] = labels[b, t + 1], the last position ignored.
void shift_labels(int32_t* targets, const int32_t* labels, int64_t B, int64_t T);

}  // namespace peft
