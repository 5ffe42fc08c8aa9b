// Decoder: the full-sequence forward with saved activations, chunked loss, and the backward.
#pragma once
#include <cstdint>
#include <vector>

#include "core/arena.h"
#include "model/block.h"
#include "model/ends.h"
#include "model/model.h"
#include "model/task_head_run.h"
#include "model/token_inputs.h"

namespace peft {

struct DecoderOptions {
  // Gradient checkpointing (Hugging Face's gradient_checkpointing): keep only each block's
  // input and run the block's forward again just before its backward, so one block's
  // activations live at a time. Same gradients; costs one more forward of the blocks.
  bool checkpoint_layers = false;
};

class Decoder {
 public:
  // Sizes every buffer for batches of up to (B, T) real tokens once (plus the virtual and
  // prefix tokens `hooks` asks for); forward/backward never allocate. hooks (the adapter,
  // or null) is not owned.
  Decoder(const Model& model, int64_t B, int64_t T, SiteHooks* hooks = nullptr, DecoderOptions options = {});
  // The shape it was sized for, so a second decoder can match it.
  const Model& model() const { return m_; }
  int64_t max_batch() const { return maxB_; }
  int64_t max_tokens() const { return maxT_ - nv_; }  // real tokens, without virtual ones
  DecoderOptions options() const { return options_; }
  // The bytes that constructor reserves, without reserving them (a preflight check).
  static int64_t arena_bytes(const Model& model, int64_t B, int64_t T, SiteHooks* hooks = nullptr,
                             DecoderOptions options = {});

  // Runs the model on ids (B, T). labels (B, T) are Hugging Face's: aligned with ids, the
  // shift happens here, kIgnoreIndex (-100) = no loss; virtual tokens get -100 too. Returns
  // the mean cross-entropy over counted positions (0 without labels); `want_grad` prepares
  // the backward (also without labels: the backward then carries only what
  // add_logits_grad adds). T may be smaller than the size reserved.
  // `inputs`: optional per-token modality ids and caller-supplied embedding vectors.
  float forward(const int32_t* ids, const int32_t* labels, int64_t B, int64_t T, bool want_grad = false,
                const TokenInputs& inputs = {});
  // Encoders with a task head (Model::head): runs the model, then the head (the hooks'
  // trainable copy where they have one), and returns transformers' loss against `labels`
  // (task_loss's layout over the real tokens: (B) or (B, K) for a sequence head, (B, T) for a
  // token head; null: no loss). want_grad prepares backward(), which starts with the head's
  // backward. loss_tokens() counts the labelled rows.
  float forward_task(const int32_t* ids, const float* labels, int64_t B, int64_t T, bool want_grad,
                     const TokenInputs& inputs = {});
  // (rows, num_labels) logits of the last forward_task (rows: B, or B · seq_len()).
  const float* task_logits() const { return task_logits_.data(); }
  // Adds dlogits (rows, num_labels) to the pending ∂loss/∂logits of the last forward_task.
  void add_task_logits_grad(const float* dlogits);
  // Backward of the last forward's loss w.r.t. activations (adapters accumulate their
  // parameter gradients on the way); afterwards d_embed() holds ∂loss/∂(token embeddings)
  // (B · seq_len(), Ce), before positions, projections and norms (and before the embedding
  // hook): at positions given as TokenInputs::embeddings, the gradient of those vectors.
  void backward();
  const float* d_embed() const { return static_cast<const float*>(d_raw_.data); }

  // Positions per row in the last forward: virtual tokens + T.
  int64_t seq_len() const { return Tt_; }
  // Hidden state i of the last forward, Hugging Face's output_hidden_states convention:
  // 0 = embedding output (after positions / embedding norm), i = residual stream after
  // block i, n_layer = the LM head's input (after the final norm and any projection).
  const float* hidden_state(int64_t i) const;
  // logits (B · seq_len(), V) of the last forward (materialises them; for inspection).
  void logits(float* out) const;
  // Adds dlogits (B · seq_len(), V) · W_lm — ∂/∂(LM head input) of an extra loss term on
  // the logits — to the pending backward of the last forward (which needs want_grad).
  void add_logits_grad(const float* dlogits);
  // Shifted targets (B · seq_len()) of the last forward with labels; kIgnoreIndex = none.
  const int32_t* targets() const { return static_cast<const int32_t*>(targets_.data); }
  // Number of loss-bearing positions in the last forward.
  int64_t loss_tokens() const { return loss_tokens_; }
  size_t arena_bytes() const { return arena_.capacity(); }

 private:
  struct SizeOnly {};
  Decoder(const Model& model, int64_t B, int64_t T, SiteHooks* hooks, DecoderOptions options, SizeOnly);
  template <typename Alloc>
  void allocate(Alloc& arena);
  BlockRun run_of(int64_t layer) const;
  // Layer `layer`'s activations: its own, or (checkpointing) the shared set with x_in
  // pointed at the layer's saved input.
  void zero_pad_rows(float* x) const;  // (B·Tt, C): pad tokens' rows to 0 (ModelConfig::pad_rows_zero)
  LayerActs& acts_of(int64_t layer);
  void pad_aware_positions(const int32_t* ids, int64_t B, int64_t T, int32_t* pos) const;

  const Model& m_;
  SiteHooks* hooks_;
  int64_t nv_ = 0, np_ = 0;  // virtual (prompt) and prefix tokens the hooks add
  int64_t maxB_, maxT_;      // maxT_ includes the virtual tokens
  int64_t B_ = 0, Tt_ = 0;
  Arena arena_;
  EmbedActs embed_;
  DecoderOptions options_;
  std::vector<LayerActs> acts_;      // one per layer; one shared set when checkpointing
  std::vector<Tensor> x_in_;         // (N, C) per layer: block inputs kept when checkpointing
  Tensor x_scratch_;                 // (N, C) recomputed block output, discarded (checkpointing)
  std::vector<Tensor> kv_k_, kv_v_;  // (B, np + T, Hkv·hd) per layer, only with a prefix
  Tensor x_final_;                   // (N, C) output of the last block
  HeadActs head_;
  const float* head_in_ = nullptr;  // (N, Ce) the LM head's input in the last forward
  Tensor d_head_in_;                // (N, Ce) ∂loss/∂head input from the chunked loss
  Tensor d_x_[2];                   // (N, C) ping-pong gradients of the residual stream
  Tensor d_raw_;                    // (N, Ce) ∂loss/∂token embeddings
  Tensor ce_scratch_;               // (chunk, V)
  Tensor positions_;                // (N) int32
  Tensor targets_;                  // (N) int32 shifted targets
  Tensor virtual_;                  // (nv, Ce) virtual token embeddings
  Tensor modality_;                 // (N) int32 modality of every position (virtual ones: 0)
  Tensor types_;                    // (N) int32 token types (encoders)
  Tensor key_len_;                  // (B) int32 real keys per row (encoders with padding)
  bool has_key_len_ = false;
  BlockGrads grads_;
  // The task head's last forward (encoders): logits, ∂loss/∂logits, the head's activations.
  std::vector<float> task_logits_, task_dlogits_;
  TaskHeadActs task_acts_;
  bool task_pending_ = false;
  int64_t loss_tokens_ = 0;
  bool have_grad_ = false;
};

}  // namespace peft
