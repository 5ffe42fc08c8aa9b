// Decoder: training forward/backward over all layers with arena-held activations.
#include "model/decoder.h"

#include <algorithm>
#include <cstring>

#include "kernels/cross_entropy.h"
#include "model/ends.h"

namespace peft {

namespace {
constexpr int64_t kLossChunkRows = 64;
float* fptr(const Tensor& t) { return static_cast<float*>(t.data); }
}  // namespace

void shift_labels(int32_t* targets, const int32_t* labels, int64_t B, int64_t T) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      targets[b * T + t] = t + 1 < T ? labels[b * T + t + 1] : kIgnoreIndex;
}

template <typename Alloc>
void Decoder::allocate(Alloc& arena) {
  const ModelConfig& c = m_.config;
  const int64_t N = maxB_ * maxT_, C = c.n_embd;
  embed_ = alloc_embed_acts(arena, c, N);
  acts_.clear();
  for (int64_t l = 0; l < c.n_layer; ++l)
    acts_.push_back(alloc_layer_acts(arena, c, maxB_, maxT_, maxT_, /*training=*/true));
  x_final_ = arena.alloc_f32({N, C});
  head_ = alloc_head_acts(arena, c, N, /*training=*/true);
  d_head_in_ = arena.alloc_f32({N, c.embd_in()});
  d_x_[0] = arena.alloc_f32({N, C});
  d_x_[1] = arena.alloc_f32({N, C});
  d_raw_ = arena.alloc_f32({N, c.embd_in()});
  ce_scratch_ = arena.alloc_f32({std::min(N, kLossChunkRows), c.n_vocab});
  positions_ = arena.alloc_f32({N});  // reinterpreted as int32 (same size)
  targets_ = arena.alloc_f32({N});
  grads_ = alloc_block_grads(arena, c, N);
}

Decoder::Decoder(const Model& model, int64_t B, int64_t T) : m_(model), maxB_(B), maxT_(T) {
  PEFT_CHECK(B > 0 && T > 0, "Decoder needs a positive batch shape, got ({}, {})", B, T);
  SizingArena sizing;
  allocate(sizing);
  arena_.reserve(sizing.used);
  allocate(arena_);
}

BlockRun Decoder::run_of(int64_t layer) const {
  BlockRun r;
  r.model = &m_;
  r.layer = layer;
  r.B = B_;
  r.T = T_;
  r.positions = static_cast<const int32_t*>(positions_.data);
  const LayerActs& a = acts_[size_t(layer)];
  r.kv = KvView{fptr(a.k), fptr(a.v), T_, 0};
  r.hooks = hooks_;
  return r;
}

float Decoder::forward(const int32_t* ids, const int32_t* targets, int64_t B, int64_t T,
                       bool want_grad) {
  PEFT_CHECK(B <= maxB_ && T <= maxT_ && B * T <= maxB_ * maxT_, "batch ({}, {}) exceeds reserved ({}, {})", B, T, maxB_, maxT_);
  const ModelConfig& c = m_.config;
  B_ = B;
  T_ = T;
  const int64_t N = B * T, L = c.n_layer;
  auto* pos = static_cast<int32_t*>(positions_.data);
  for (int64_t n = 0; n < N; ++n) pos[n] = int32_t(n % T);

  embed_forward(m_, ids, pos, N, embed_, fptr(acts_[0].x_in));
  for (int64_t l = 0; l < L; ++l) {
    float* out = l + 1 < L ? fptr(acts_[size_t(l + 1)].x_in) : fptr(x_final_);
    block_forward(run_of(l), acts_[size_t(l)], out);
  }
  head_in_ = head_forward(m_, fptr(x_final_), N, head_);

  have_grad_ = false;
  loss_tokens_ = 0;
  if (!targets) return 0.f;
  auto* tgt = static_cast<int32_t*>(targets_.data);
  std::memcpy(tgt, targets, size_t(N) * sizeof(int32_t));
  for (int64_t n = 0; n < N; ++n) loss_tokens_ += tgt[n] >= 0;
  if (loss_tokens_ == 0) return 0.f;
  const float scale = 1.0f / float(loss_tokens_);
  float* dh = nullptr;
  if (want_grad) {
    dh = fptr(d_head_in_);
    std::memset(dh, 0, size_t(N * c.embd_in()) * 4);
  }
  double total = lm_head_cross_entropy(dh, head_in_, m_.lm_head.w,
                                       m_.lm_head.has_bias() ? m_.lm_head.b.f32() : nullptr, tgt, N,
                                       scale, fptr(ce_scratch_), ce_scratch_.dim(0));
  have_grad_ = want_grad;
  return float(total / double(loss_tokens_));
}

void Decoder::backward() {
  PEFT_CHECK(have_grad_, "backward() needs a forward with targets and want_grad");
  const ModelConfig& c = m_.config;
  const int64_t N = B_ * T_, L = c.n_layer;
  // d_x_[L % 2] receives ∂/∂x_final; blocks then ping-pong down to d_x_[0].
  float* d_out = fptr(d_x_[L % 2]);
  std::memset(d_out, 0, size_t(N * c.n_embd) * 4);
  head_backward(m_, head_, fptr(x_final_), fptr(d_head_in_), d_out, N);
  for (int64_t l = L - 1; l >= 0; --l) {
    float* d_in = fptr(d_x_[l % 2]);
    block_backward(run_of(l), acts_[size_t(l)], grads_, d_out, d_in);
    d_out = d_in;
  }
  // d_x_[1] is free now: scratch for the embedding norm's gradient.
  embed_backward(m_, embed_, fptr(d_x_[0]), fptr(d_x_[1]), fptr(d_raw_), N);
}

const float* Decoder::hidden_state(int64_t i) const {
  PEFT_CHECK(0 <= i && i <= m_.config.n_layer, "hidden state {} of {}", i, m_.config.n_layer);
  if (i == m_.config.n_layer) return head_in_;
  return fptr(acts_[size_t(i)].x_in);
}

void Decoder::logits(float* out) const { lm_head_forward(m_, out, head_in_, B_ * T_); }

}  // namespace peft
