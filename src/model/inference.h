// Incremental inference: a KV cache and a runner that feeds new tokens and returns logits.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "core/arena.h"
#include "model/block.h"
#include "model/ends.h"
#include "model/model.h"

namespace peft {

// Keys/values of every layer for B sequences of up to `capacity` positions.
class KvCache {
 public:
  KvCache(const ModelConfig& c, int64_t B, int64_t capacity);
  float* k(int64_t layer) { return static_cast<float*>(k_[size_t(layer)].view().data); }  // (B, cap, Hkv·hd)
  float* v(int64_t layer) { return static_cast<float*>(v_[size_t(layer)].view().data); }
  int64_t batch() const { return B_; }
  int64_t capacity() const { return capacity_; }
  int64_t length() const { return length_; }  // positions filled (same for every row)
  void advance(int64_t n) { length_ += n; }
  void clear() { length_ = 0; }
  // Row b becomes what row src[b] was (the first length() positions), b < src.size().
  void select_rows(const std::vector<int64_t>& src);

 private:
  int64_t B_, capacity_, length_ = 0;
  std::vector<OwnedTensor> k_, v_;
};

// The part of a KV-cached forward both runners share: every block over x (B·T, C), layer l's
// keys/values where kv_of(l) says; returns the buffer holding the last block's output (x or y,
// which serve as ping-pong buffers).
float* run_blocks(const Model& m, LayerActs& acts, float* x, float* y, int64_t B, int64_t T, const int32_t* positions,
                  SiteHooks* hooks, const std::function<KvView(int64_t layer)>& kv_of);
// logits (B, V) of each row's last position of x (B·T, C), through the head; last (B, C) is
// scratch.
void last_position_logits(const Model& m, const float* x, int64_t B, int64_t T, float* last, HeadActs& head,
                          float* logits);

class InferenceRunner {
 public:
  // Up to B rows, up to max_step tokens per forward, up to `capacity` positions in total
  // (the virtual and prefix tokens of `hooks` — an adapter or null, not owned — come on top).
  InferenceRunner(const Model& model, int64_t B, int64_t max_step, int64_t capacity, SiteHooks* hooks = nullptr);

  // Left padding of the next prompt (call while the cache is empty): the first pad[b] ids of
  // row b in the first forward are padding, as Hugging Face's left-padded batches with an
  // attention mask: no later query attends to them, and positions count from the row's first
  // real token (position_ids = cumsum(attention_mask) − 1), so RoPE, learned positions and
  // ALiBi see each row as if it were alone. Adapters' prefix keys and virtual tokens stay in
  // front of the pads. Values are 0 .. T − 1 of that forward; empty = none.
  void set_left_padding(std::vector<int32_t> pad);

  // Appends ids (B, T) (T <= max_step) at the cache's current length. The first call also
  // writes the adapter's prefix into the cache and puts its virtual tokens in front (then
  // all_positions covers them too: (B, nv + T, V)). Writes logits:
  // all_positions ? (B, T, V) : (B, V) for each row's last new token.
  // modality (B, T): per-token modality ids for input-centric adapters (null = text).
  // B is the current batch (batch()), which select_rows may have shrunk.
  void forward(const int32_t* ids, int64_t T, float* logits, bool all_positions, const int32_t* modality = nullptr);

  // Keeps rows src[0], src[1], ... (of the current batch) as rows 0, 1, ...: the batch
  // becomes src.size() rows (at most the B it was built for), so finished sequences stop
  // costing compute, and a row may be repeated (one prompt's cache shared by several
  // continuations). Copies the cache.
  void select_rows(const std::vector<int64_t>& src);
  int64_t batch() const { return B_; }

  KvCache& cache() { return cache_; }
  const Model& model() const { return m_; }

 private:
  const Model& m_;
  int64_t B_, max_step_;
  int64_t B_built_;  // the rows the buffers hold
  KvCache cache_;
  Arena arena_;
  EmbedActs embed_;
  LayerActs acts_;
  Tensor x_in_, x_out_;  // (N, C) ping-pong residual buffers (acts_.x_in points at one)
  Tensor last_;          // (B, C) each row's last position
  HeadActs head_;
  std::vector<int32_t> positions_, modality_;
  std::vector<int32_t> pad_;  // (B) leading pad positions of each row; empty = none
  SiteHooks* hooks_ = nullptr;
  int64_t nv_ = 0, np_ = 0;  // the hooks' virtual and prefix tokens
  Tensor virtual_;           // (nv, Ce)
};

}  // namespace peft
