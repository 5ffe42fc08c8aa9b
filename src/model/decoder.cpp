// Decoder: training forward/backward over all layers with arena-held activations.
#include "model/decoder.h"

#include <algorithm>
#include <cstring>

#include "kernels/cross_entropy.h"
#include "kernels/embedding.h"
#include "kernels/matmul.h"
#include "model/ends.h"

namespace peft {

namespace {
// Rows of the chunked LM-head loss: its (rows, V) logits are the scratch. A quantized head is
// decoded once per chunk and pass, so it takes bigger chunks (Llama-3.2-1B's Q6_K head at
// 1 x 512 tokens: 64 rows spent a third of the step decoding it).
constexpr int64_t kLossChunkRows = 64, kQuantizedHeadLossChunkRows = 256;
float* fptr(const Tensor& t) { return static_cast<float*>(t.data); }
int32_t* iptr(const Tensor& t) { return static_cast<int32_t*>(t.data); }
}  // namespace

template <typename Alloc>
void Decoder::allocate(Alloc& arena) {
  const ModelConfig& c = m_.config;
  const int64_t N = maxB_ * maxT_, C = c.n_embd, kv_rows = np_ + maxT_;
  embed_ = alloc_embed_acts(arena, c, N);
  acts_.clear();
  x_in_.clear();
  kv_k_.clear();
  kv_v_.clear();
  for (int64_t l = 0; l < c.n_layer; ++l) {
    if (!options_.checkpoint_layers || l == 0)
      acts_.push_back(alloc_layer_acts(arena, c, maxB_, maxT_, /*training=*/true));
    if (options_.checkpoint_layers) x_in_.push_back(arena.alloc_f32({N, C}));
    if (np_ > 0) {
      kv_k_.push_back(arena.alloc_f32({maxB_, kv_rows, c.kv_dim()}));
      kv_v_.push_back(arena.alloc_f32({maxB_, kv_rows, c.kv_dim()}));
    }
  }
  x_final_ = arena.alloc_f32({N, C});
  if (options_.checkpoint_layers) x_scratch_ = arena.alloc_f32({N, C});
  head_ = alloc_head_acts(arena, c, N, /*training=*/true);
  d_head_in_ = arena.alloc_f32({N, c.embd_in()});
  d_x_[0] = arena.alloc_f32({N, C});
  d_x_[1] = arena.alloc_f32({N, C});
  d_raw_ = arena.alloc_f32({N, c.embd_in()});
  const int64_t chunk = dtype_is_quantized(m_.lm_head.w.dtype) ? kQuantizedHeadLossChunkRows : kLossChunkRows;
  ce_scratch_ = arena.alloc_f32({std::min(N, chunk), c.n_vocab});
  positions_ = arena.alloc_f32({N});  // reinterpreted as int32 (same size)
  targets_ = arena.alloc_f32({N});
  virtual_ = arena.alloc_f32({std::max<int64_t>(nv_, 1), c.embd_in()});
  modality_ = arena.alloc_f32({N});  // reinterpreted as int32
  types_ = arena.alloc_f32({N});     // reinterpreted as int32
  key_len_ = arena.alloc_f32({maxB_});
  grads_ = alloc_block_grads(arena, c, N, maxB_ * kv_rows);
}

Decoder::Decoder(const Model& model, int64_t B, int64_t T, SiteHooks* hooks, DecoderOptions options, SizeOnly)
    : m_(model), hooks_(hooks), maxB_(B), options_(options) {
  PEFT_CHECK(B > 0 && T > 0, "Decoder needs a positive batch shape, got ({}, {})", B, T);
  nv_ = hooks ? hooks->num_virtual_tokens() : 0;
  np_ = hooks ? hooks->num_prefix_tokens() : 0;
  maxT_ = T + nv_;
}

Decoder::Decoder(const Model& model, int64_t B, int64_t T, SiteHooks* hooks, DecoderOptions options)
    : Decoder(model, B, T, hooks, options, SizeOnly{}) {
  SizingArena sizing;
  allocate(sizing);
  arena_.reserve(sizing.used);
  allocate(arena_);
}

int64_t Decoder::arena_bytes(const Model& model, int64_t B, int64_t T, SiteHooks* hooks, DecoderOptions options) {
  Decoder sized(model, B, T, hooks, options, SizeOnly{});
  SizingArena sizing;
  sized.allocate(sizing);
  return int64_t(sizing.used);
}

// RoBERTa: a real token's position counts the row's non-pad ids up to it (after the prefix
// and virtual tokens); a pad id's position is −1, the table's padding row.
void Decoder::pad_aware_positions(const int32_t* ids, int64_t B, int64_t T, int32_t* pos) const {
  const int32_t pad = m_.config.pad_id;
  for (int64_t b = 0; b < B; ++b) {
    int32_t count = 0;
    for (int64_t t = 0; t < T; ++t) {
      const bool real = ids[b * T + t] != pad;
      count += real;
      pos[b * Tt_ + nv_ + t] = real ? int32_t(np_ + nv_ + count - 1) : -1;
    }
  }
}

// DeBERTa's embeddings times the attention mask: a pad token enters block 0 as zeros.
void Decoder::zero_pad_rows(float* x) const {
  if (!m_.config.pad_rows_zero || !has_key_len_) return;
  const int64_t C = m_.config.n_embd;
  const int32_t* kl = iptr(key_len_);
  for (int64_t b = 0; b < B_; ++b) {
    const int64_t real = kl[b] - np_;  // the row's virtual and real tokens
    std::memset(x + (b * Tt_ + real) * C, 0, size_t((Tt_ - real) * C) * sizeof(float));
  }
}

LayerActs& Decoder::acts_of(int64_t layer) {
  if (!options_.checkpoint_layers) return acts_[size_t(layer)];
  acts_[0].x_in = x_in_[size_t(layer)];
  return acts_[0];
}

BlockRun Decoder::run_of(int64_t layer) const {
  BlockRun r;
  r.model = &m_;
  r.layer = layer;
  r.B = B_;
  r.T = Tt_;
  r.positions = iptr(positions_);
  const LayerActs& a = acts_[options_.checkpoint_layers ? 0 : size_t(layer)];
  r.kv = np_ > 0 ? KvView{fptr(kv_k_[size_t(layer)]), fptr(kv_v_[size_t(layer)]), np_ + Tt_, np_}
                 : KvView{fptr(a.k), fptr(a.v), Tt_, 0};
  if (has_key_len_) r.kv.key_len = iptr(key_len_);
  r.hooks = hooks_;
  return r;
}

float Decoder::forward(const int32_t* ids, const int32_t* labels, int64_t B, int64_t T, bool want_grad,
                       const TokenInputs& inputs) {
  const int64_t Tt = T + nv_;
  PEFT_CHECK(B <= maxB_ && Tt <= maxT_, "batch ({}, {}) exceeds the reserved ({}, {})", B, Tt, maxB_, maxT_);
  const ModelConfig& c = m_.config;
  PEFT_CHECK(c.causal || !labels, "an encoder has no LM loss (its task head computes the loss)");
  B_ = B;
  Tt_ = Tt;
  const int64_t N = B * Tt, L = c.n_layer, Ce = c.embd_in();
  int32_t* pos = iptr(positions_);
  for (int64_t n = 0; n < N; ++n) pos[n] = int32_t(np_ + n % Tt);  // a prefix shifts positions
  if (c.pad_aware_positions) pad_aware_positions(ids, B, T, pos);
  const int32_t* types = nullptr;
  if (inputs.token_types) {  // virtual tokens are of type 0
    int32_t* t = iptr(types_);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t p = 0; p < Tt; ++p) t[b * Tt + p] = p < nv_ ? 0 : inputs.token_types[b * T + p - nv_];
    types = t;
  }
  has_key_len_ = !c.causal && inputs.seq_lens;
  if (has_key_len_) {  // keys of a row: the prefix, the virtual tokens, then its real tokens
    int32_t* kl = iptr(key_len_);
    for (int64_t b = 0; b < B; ++b) {
      PEFT_CHECK(inputs.seq_lens[b] >= 1 && inputs.seq_lens[b] <= T, "seq_lens[{}] = {} outside [1, {}]", b,
                 inputs.seq_lens[b], T);
      kl[b] = int32_t(np_ + nv_ + inputs.seq_lens[b]);
    }
  }

  // Token embeddings, with the virtual tokens in front of every row.
  embed_tokens(m_, hooks_, ids, B, T, nv_, inputs, fptr(virtual_), fptr(embed_.raw), iptr(modality_));
  embed_inputs_forward(m_, pos, N, embed_, fptr(acts_of(0).x_in), types);
  zero_pad_rows(fptr(acts_of(0).x_in));
  for (int64_t l = 0; l < L; ++l) {
    float* out = l + 1 < L ? fptr(options_.checkpoint_layers ? x_in_[size_t(l + 1)] : acts_[size_t(l + 1)].x_in)
                           : fptr(x_final_);
    const BlockRun r = run_of(l);
    if (np_ > 0) hooks_->prefix_kv(l, r.kv.k, r.kv.v, B, r.kv.kv_rows);
    block_forward(r, acts_of(l), out);
  }
  head_in_ = head_forward(m_, fptr(x_final_), N, head_);

  have_grad_ = false;
  task_pending_ = false;
  loss_tokens_ = 0;
  if (!labels) {
    if (want_grad) {  // a backward of terms added later through add_logits_grad
      std::memset(fptr(d_head_in_), 0, size_t(N * Ce) * sizeof(float));
      int32_t* tgt = iptr(targets_);
      for (int64_t n = 0; n < N; ++n) tgt[n] = kIgnoreIndex;
      have_grad_ = true;
    }
    return 0.f;
  }
  // Hugging Face's causal shift over the whole row (virtual labels are -100): position p
  // predicts label p + 1, so the last virtual token predicts the first real label.
  int32_t* tgt = iptr(targets_);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t p = 0; p < Tt; ++p) {
      const int64_t next = p + 1 - nv_;
      tgt[b * Tt + p] = p + 1 < Tt && next >= 0 ? labels[b * T + next] : kIgnoreIndex;
    }
  for (int64_t n = 0; n < N; ++n) loss_tokens_ += tgt[n] >= 0;
  float* dh = nullptr;
  if (want_grad) {
    dh = fptr(d_head_in_);
    std::memset(dh, 0, size_t(N * Ce) * sizeof(float));
  }
  if (loss_tokens_ == 0) return 0.f;
  double total =
      lm_head_cross_entropy(dh, head_in_, m_.lm_head.w, m_.lm_head.has_bias() ? m_.lm_head.b.f32() : nullptr, tgt, N,
                            1.0f / float(loss_tokens_), fptr(ce_scratch_), ce_scratch_.dim(0), m_.config.logit_softcap);
  have_grad_ = want_grad;
  return float(total / double(loss_tokens_));
}

float Decoder::forward_task(const int32_t* ids, const float* labels, int64_t B, int64_t T, bool want_grad,
                            const TokenInputs& inputs) {
  PEFT_CHECK(!m_.head.empty(), "forward_task needs a model with a task head");
  forward(ids, nullptr, B, T, want_grad, inputs);
  const TaskSpec& task = m_.task;
  const int64_t rows = task_head_rows(m_, B, Tt_), K = task.num_labels;
  task_logits_.resize(size_t(rows * K));
  task_head_forward(m_, hooks_, head_in_, B, Tt_, task_logits_.data(), want_grad ? &task_acts_ : nullptr);
  task_pending_ = want_grad;
  task_dlogits_.assign(want_grad ? size_t(rows * K) : 0, 0.f);
  loss_tokens_ = 0;
  if (!labels) return 0.f;
  // A token head's rows include the virtual tokens, which carry no label.
  std::vector<float> expanded;
  const float* y = labels;
  if (task.task == TaskType::TokenCls && nv_ > 0) {
    expanded.assign(size_t(rows), -100.f);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t) expanded[size_t(b * Tt_ + nv_ + t)] = labels[b * T + t];
    y = expanded.data();
  }
  if (task.problem == ProblemType::SingleLabel) {
    for (int64_t r = 0; r < rows; ++r) loss_tokens_ += y[r] != -100.f;
  } else {
    loss_tokens_ = rows;
  }
  return float(task_loss(task, task_logits_.data(), y, rows, want_grad ? task_dlogits_.data() : nullptr));
}

void Decoder::add_task_logits_grad(const float* dlogits) {
  PEFT_CHECK(task_pending_, "add_task_logits_grad() needs a forward_task with want_grad");
  for (size_t i = 0; i < task_dlogits_.size(); ++i) task_dlogits_[i] += dlogits[i];
}

void Decoder::backward() {
  PEFT_CHECK(have_grad_, "backward() needs a forward with labels and want_grad");
  const ModelConfig& c = m_.config;
  const int64_t N = B_ * Tt_, L = c.n_layer;
  if (task_pending_) {  // the head first: its gradient reaches the encoder's output rows
    task_head_backward(m_, hooks_, task_acts_, task_dlogits_.data(), B_, Tt_, fptr(d_head_in_));
    task_pending_ = false;
  }
  // d_x_[L % 2] receives ∂/∂x_final; blocks then ping-pong down to d_x_[0].
  float* d_out = fptr(d_x_[L % 2]);
  std::memset(d_out, 0, size_t(N * c.n_embd) * sizeof(float));
  head_backward(m_, head_, fptr(x_final_), fptr(d_head_in_), d_out, N);
  for (int64_t l = L - 1; l >= 0; --l) {
    float* d_in = fptr(d_x_[l % 2]);
    LayerActs& a = acts_of(l);
    // Checkpointing: rebuild this block's activations from its saved input. The adapters'
    // hooks see the same run mode (dropout seeds, expert routes), so they match the first pass.
    if (options_.checkpoint_layers) block_forward(run_of(l), a, fptr(x_scratch_));
    block_backward(run_of(l), a, grads_, d_out, d_in);
    d_out = d_in;
  }
  zero_pad_rows(fptr(d_x_[0]));  // the forward zeroed those rows: nothing flows back
  // d_x_[1] is free now: scratch for the embedding norm's gradient.
  embed_backward(m_, embed_, fptr(d_x_[0]), fptr(d_x_[1]), fptr(d_raw_), N);
  if (hooks_ && hooks_->has_embed_hook()) hooks_->embed_backward(fptr(d_raw_), iptr(modality_), N);
  if (nv_ > 0) hooks_->virtual_embeddings_backward(fptr(d_raw_), B_, Tt_);
}

const float* Decoder::hidden_state(int64_t i) const {
  PEFT_CHECK(0 <= i && i <= m_.config.n_layer, "hidden state {} of {}", i, m_.config.n_layer);
  if (i == m_.config.n_layer) return head_in_;
  return fptr(options_.checkpoint_layers ? x_in_[size_t(i)] : acts_[size_t(i)].x_in);
}

void Decoder::add_logits_grad(const float* dlogits) {
  PEFT_CHECK(have_grad_, "add_logits_grad() needs a forward with want_grad");
  const int64_t N = B_ * Tt_;
  if (m_.config.logit_softcap > 0.f) {  // through the cap: its derivative recomputed, rows a chunk at a time
    const int64_t V = m_.lm_head.out(), Ce = m_.config.embd_in(), chunk = ce_scratch_.dim(0);
    std::vector<float> raw(size_t(chunk * V)), dcap(size_t(chunk * V));
    for (int64_t n0 = 0; n0 < N; n0 += chunk) {
      const int64_t rows = std::min(chunk, N - n0);
      linear_forward(raw.data(), head_in_ + n0 * Ce, m_.lm_head.w, m_.lm_head.has_bias() ? m_.lm_head.b.f32() : nullptr,
                     rows);
      softcap_forward(raw.data(), dcap.data(), rows * V, m_.config.logit_softcap);
      for (int64_t i = 0; i < rows * V; ++i) raw[size_t(i)] = dlogits[n0 * V + i] * dcap[size_t(i)];
      linear_backward_input(fptr(d_head_in_) + n0 * Ce, raw.data(), m_.lm_head.w, rows);
    }
    return;
  }
  linear_backward_input(fptr(d_head_in_), dlogits, m_.lm_head.w, N);
}

void Decoder::logits(float* out) const {
  PEFT_CHECK(m_.config.causal, "an encoder has no LM head");
  lm_head_forward(m_, out, head_in_, B_ * Tt_);
}

}  // namespace peft
