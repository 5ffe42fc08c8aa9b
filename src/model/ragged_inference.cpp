// Ragged KV-cached forward: every row attends to its own cache (AttentionShape's ragged layout).
#include "model/ragged_inference.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/check.h"

namespace peft {

RaggedRunner::RaggedRunner(const Model& model, int64_t max_tokens) : m_(model), max_tokens_(max_tokens) {
  PEFT_CHECK(max_tokens >= 1, "ragged runner of {} tokens", max_tokens);
  const ModelConfig& c = model.config;
  const int64_t N = max_tokens;
  auto plan = [&](auto& arena) {
    embed_ = alloc_embed_acts(arena, c, N);
    acts_ = alloc_layer_acts(arena, c, 1, N, /*training=*/false);
    x_in_ = acts_.x_in;
    x_out_ = arena.alloc_f32({N, c.n_embd});
    last_ = arena.alloc_f32({N, c.n_embd});
    head_ = alloc_head_acts(arena, c, N, /*training=*/false);
  };
  SizingArena sizing;
  plan(sizing);
  arena_.reserve(sizing.used);
  plan(arena_);
  positions_.resize(size_t(N));
  modality_.resize(size_t(N));
}

void RaggedRunner::prefill(KvCache& seq, const int32_t* ids, int64_t T, SiteHooks* hooks, float* logits) {
  PEFT_CHECK(seq.batch() == 1, "a sequence cache has one row, not {}", seq.batch());
  int64_t nv = 0;
  if (seq.length() == 0 && hooks) {
    const int64_t np = hooks->num_prefix_tokens();
    PEFT_CHECK(np + hooks->num_virtual_tokens() + T <= seq.capacity(), "sequence cache of {} positions is too small",
               seq.capacity());
    for (int64_t l = 0; l < m_.config.n_layer && np > 0; ++l)
      hooks->prefix_kv(l, seq.k(l), seq.v(l), 1, seq.capacity());
    seq.advance(np);
    nv = hooks->num_virtual_tokens();
  }
  KvCache* one = &seq;
  run(&one, 1, ids, T, nv, hooks, logits);
}

void RaggedRunner::decode(KvCache* const* seqs, const int32_t* ids, int64_t B, SiteHooks* hooks, float* logits) {
  for (int64_t b = 0; b < B; ++b) PEFT_CHECK(seqs[b]->length() > 0, "decode of row {}: its prompt is not in yet", b);
  run(seqs, B, ids, 1, 0, hooks, logits);
}

void RaggedRunner::run(KvCache* const* seqs, int64_t B, const int32_t* ids, int64_t T_in, int64_t nv, SiteHooks* hooks,
                       float* logits) {
  const ModelConfig& c = m_.config;
  const int64_t T = T_in + nv, N = B * T;
  PEFT_CHECK(T_in >= 1 && N <= max_tokens_, "forward of {} × {} tokens, runner sized for {}", B, T, max_tokens_);
  row_past_.resize(size_t(B));
  row_k_.resize(size_t(B));
  row_v_.resize(size_t(B));
  int64_t max_past = 0;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t past = seqs[b]->length();
    PEFT_CHECK(past + T <= seqs[b]->capacity(), "row {}: KV cache full: {} + {} > {}", b, past, T, seqs[b]->capacity());
    row_past_[size_t(b)] = int32_t(past);
    max_past = std::max(max_past, past);
    for (int64_t t = 0; t < T; ++t) positions_[size_t(b * T + t)] = int32_t(past + t);
  }
  if (nv > 0) {
    virtual_.resize(size_t(nv * c.embd_in()));
  }
  float* x = static_cast<float*>(x_in_.data);
  float* y = static_cast<float*>(x_out_.data);
  embed_tokens(m_, hooks, ids, B, T_in, nv, TokenInputs{}, virtual_.data(), static_cast<float*>(embed_.raw.data),
               modality_.data());
  embed_inputs_forward(m_, positions_.data(), N, embed_, x);
  x = run_blocks(m_, acts_, x, y, B, T, positions_.data(), hooks, [&](int64_t l) {
    for (int64_t b = 0; b < B; ++b) {
      row_k_[size_t(b)] = seqs[b]->k(l);
      row_v_[size_t(b)] = seqs[b]->v(l);
    }
    KvView kv;
    kv.kv_rows = max_past + T;
    kv.past = max_past;
    kv.row_k = row_k_.data();
    kv.row_v = row_v_.data();
    kv.row_past = row_past_.data();
    return kv;
  });
  for (int64_t b = 0; b < B; ++b) seqs[b]->advance(T);
  last_position_logits(m_, x, B, T, static_cast<float*>(last_.data), head_, logits);
}

}  // namespace peft
