// KV-cached forward for generation and logits, with left-padded rows for batched generation.
#include "model/inference.h"

#include "core/check.h"
#include "kernels/embedding.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace peft {

KvCache::KvCache(const ModelConfig& c, int64_t B, int64_t capacity) : B_(B), capacity_(capacity) {
  for (int64_t l = 0; l < c.n_layer; ++l) {
    k_.emplace_back(DType::F32, std::vector<int64_t>{B, capacity, c.kv_dim()});
    v_.emplace_back(DType::F32, std::vector<int64_t>{B, capacity, c.kv_dim()});
  }
}

void KvCache::select_rows(const std::vector<int64_t>& src) {
  const int64_t n = int64_t(src.size()), row = capacity_ * k_[0].view().dim(2), used = length_ * k_[0].view().dim(2);
  bool in_place = true;  // increasing sources (dropping rows) never overwrite a row still to be read
  for (int64_t b = 0; b < n; ++b) {
    PEFT_CHECK(src[size_t(b)] >= 0 && src[size_t(b)] < B_, "select_rows: row {} of {}", src[size_t(b)], B_);
    in_place &= src[size_t(b)] >= b && (b == 0 || src[size_t(b)] > src[size_t(b - 1)]);
  }
  std::vector<float> tmp(in_place ? 0 : size_t(n * used));
  for (auto* list : {&k_, &v_})
    for (OwnedTensor& t : *list) {
      float* base = static_cast<float*>(t.view().data);
      if (in_place) {
        for (int64_t b = 0; b < n; ++b)
          if (src[size_t(b)] != b)
            std::memcpy(base + b * row, base + src[size_t(b)] * row, size_t(used) * sizeof(float));
        continue;
      }
      for (int64_t b = 0; b < n; ++b)
        std::memcpy(tmp.data() + b * used, base + src[size_t(b)] * row, size_t(used) * sizeof(float));
      for (int64_t b = 0; b < n; ++b) std::memcpy(base + b * row, tmp.data() + b * used, size_t(used) * sizeof(float));
    }
}

InferenceRunner::InferenceRunner(const Model& model, int64_t B, int64_t max_step, int64_t capacity, SiteHooks* hooks)
    : m_(model),
      B_(B),
      max_step_(max_step + (hooks ? hooks->num_virtual_tokens() : 0)),
      B_built_(B),
      cache_(model.config, B, capacity + (hooks ? hooks->num_virtual_tokens() + hooks->num_prefix_tokens() : 0)),
      hooks_(hooks),
      nv_(hooks ? hooks->num_virtual_tokens() : 0),
      np_(hooks ? hooks->num_prefix_tokens() : 0) {
  const ModelConfig& c = model.config;
  const int64_t N = B * max_step_;
  capacity = cache_.capacity();
  auto plan = [&](auto& arena) {
    embed_ = alloc_embed_acts(arena, c, N);
    acts_ = alloc_layer_acts(arena, c, B, max_step_, /*training=*/false);
    x_in_ = acts_.x_in;
    x_out_ = arena.alloc_f32({N, c.n_embd});
    last_ = arena.alloc_f32({B, c.n_embd});
    head_ = alloc_head_acts(arena, c, N, /*training=*/false);
    virtual_ = arena.alloc_f32({std::max<int64_t>(nv_, 1), c.embd_in()});
  };
  SizingArena sizing;
  plan(sizing);
  arena_.reserve(sizing.used);
  plan(arena_);
  positions_.resize(size_t(N));
}

void InferenceRunner::set_left_padding(std::vector<int32_t> pad) {
  PEFT_CHECK(cache_.length() == 0, "left padding is set before the first forward");
  PEFT_CHECK(pad.empty() || int64_t(pad.size()) == B_, "left padding for {} rows, batch of {}", pad.size(), B_);
  for (int32_t p : pad) PEFT_CHECK(p >= 0, "negative left padding {}", p);
  pad_ = std::move(pad);
}

void InferenceRunner::select_rows(const std::vector<int64_t>& src) {
  PEFT_CHECK(!src.empty() && int64_t(src.size()) <= B_built_, "select_rows: {} rows, built for {}", src.size(),
             B_built_);
  for (int64_t r : src) PEFT_CHECK(r >= 0 && r < B_, "select_rows: row {} of {}", r, B_);
  cache_.select_rows(src);
  if (!pad_.empty()) {
    std::vector<int32_t> pad(src.size());
    for (size_t b = 0; b < src.size(); ++b) pad[b] = pad_[size_t(src[b])];
    pad_ = std::move(pad);
  }
  B_ = int64_t(src.size());
}

void InferenceRunner::forward(const int32_t* ids, int64_t T_in, float* logits, bool all_positions,
                              const int32_t* modality) {
  const ModelConfig& c = m_.config;
  const bool first = cache_.length() == 0;
  if (first && np_ > 0) {  // the prefix sits in the cache before every real token
    for (int64_t l = 0; l < c.n_layer; ++l) hooks_->prefix_kv(l, cache_.k(l), cache_.v(l), B_, cache_.capacity());
    cache_.advance(np_);
  }
  const int64_t nv = first ? nv_ : 0, T = T_in + nv;
  PEFT_CHECK(T_in >= 1 && T <= max_step_, "step of {} tokens, runner sized for {}", T, max_step_);
  const int64_t past = cache_.length();
  PEFT_CHECK(past + T <= cache_.capacity(), "KV cache full: {} + {} > {}", past, T, cache_.capacity());
  const int64_t N = B_ * T;
  // Pads sit after the prefix and the virtual tokens; a row's later positions skip them (a
  // pad's own position is irrelevant, it only has to be a valid one).
  const int64_t pad_at = np_ + nv_;
  for (int64_t b = 0; b < B_; ++b) {
    const int64_t pad = pad_.empty() ? 0 : pad_[size_t(b)];
    PEFT_CHECK(!first || pad < T_in, "row {}: {} pad tokens leave no real token of {}", b, pad, T_in);
    for (int64_t t = 0; t < T; ++t) {
      const int64_t i = past + t;
      positions_[size_t(b * T + t)] = int32_t(i < pad_at ? i : (i < pad_at + pad ? pad_at : i - pad));
    }
  }

  float* x = static_cast<float*>(x_in_.data);
  float* y = static_cast<float*>(x_out_.data);
  modality_.resize(size_t(N));
  embed_tokens(m_, hooks_, ids, B_, T_in, nv, TokenInputs{modality}, static_cast<float*>(virtual_.data),
               static_cast<float*>(embed_.raw.data), modality_.data());
  embed_inputs_forward(m_, positions_.data(), N, embed_, x);
  x = run_blocks(m_, acts_, x, y, B_, T, positions_.data(), hooks_, [&](int64_t l) {
    return KvView{cache_.k(l), cache_.v(l), cache_.capacity(), past, pad_.empty() ? nullptr : pad_.data(), pad_at};
  });
  cache_.advance(T);

  if (all_positions) {
    lm_head_forward(m_, logits, head_forward(m_, x, N, head_), N);
    return;
  }
  last_position_logits(m_, x, B_, T, static_cast<float*>(last_.data), head_, logits);
}

float* run_blocks(const Model& m, LayerActs& acts, float* x, float* y, int64_t B, int64_t T, const int32_t* positions,
                  SiteHooks* hooks, const std::function<KvView(int64_t)>& kv_of) {
  for (int64_t l = 0; l < m.config.n_layer; ++l) {
    BlockRun r;
    r.model = &m;
    r.layer = l;
    r.B = B;
    r.T = T;
    r.positions = positions;
    r.kv = kv_of(l);
    r.hooks = hooks;
    acts.x_in.data = x;
    block_forward(r, acts, y);
    std::swap(x, y);
  }
  return x;
}

void last_position_logits(const Model& m, const float* x, int64_t B, int64_t T, float* last, HeadActs& head,
                          float* logits) {
  const int64_t C = m.config.n_embd;
  for (int64_t b = 0; b < B; ++b) std::memcpy(last + b * C, x + (b * T + T - 1) * C, size_t(C) * sizeof(float));
  lm_head_forward(m, logits, head_forward(m, last, B, head), B);
}

}  // namespace peft
