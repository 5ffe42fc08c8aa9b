// Continuous batching's forward: sequences with caches of their own and different lengths
// join one forward — a new sequence's prompt alone, or one token each of many sequences.
#pragma once
#include <cstdint>
#include <vector>

#include "core/arena.h"
#include "model/block.h"
#include "model/ends.h"
#include "model/inference.h"
#include "model/model.h"

namespace peft {

// One sequence's keys and values: a KvCache of one row, sized for the sequence's prompt,
// its adapter's prefix/virtual tokens and the tokens it may still generate.
inline KvCache make_sequence_cache(const ModelConfig& c, int64_t capacity) { return KvCache(c, 1, capacity); }

class RaggedRunner {
 public:
  // Forwards of up to max_tokens positions in total: a prefill of that many (virtual tokens
  // included), or a decode step of that many sequences.
  RaggedRunner(const Model& model, int64_t max_tokens);

  // Appends ids (T) to one sequence, alone in the forward. On the sequence's first call (an
  // empty cache) the hooks' prefix keys go in front and their virtual tokens before ids — what
  // InferenceRunner does for a batch of one, so a prefill here equals `peft generate`'s.
  // logits (V) of the last position.
  void prefill(KvCache& seq, const int32_t* ids, int64_t T, SiteHooks* hooks, float* logits);

  // One new token per sequence: ids (B) appended to seqs[b] (each non-empty, with room for
  // one more). hooks applies to every row (MixedHooks gives rows different adapters).
  // logits (B, V).
  void decode(KvCache* const* seqs, const int32_t* ids, int64_t B, SiteHooks* hooks, float* logits);

  int64_t max_tokens() const { return max_tokens_; }
  const Model& model() const { return m_; }

 private:
  // ids (B, T_in) after nv virtual tokens per row, each row at its own cache's length.
  void run(KvCache* const* seqs, int64_t B, const int32_t* ids, int64_t T_in, int64_t nv, SiteHooks* hooks,
           float* logits);

  const Model& m_;
  int64_t max_tokens_;
  Arena arena_;
  EmbedActs embed_;
  LayerActs acts_;
  Tensor x_in_, x_out_;  // (N, C) ping-pong residual buffers
  Tensor last_;          // (B, C) each row's last position
  HeadActs head_;
  std::vector<int32_t> positions_, modality_, row_past_;
  std::vector<float*> row_k_, row_v_;
  std::vector<float> virtual_;  // (nv, Ce) the prefilled sequence's virtual tokens
};

}  // namespace peft
