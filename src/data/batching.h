// Micro-batches of tokenized examples: seeded shuffling, length grouping, padding, resumable state.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/status.h"
#include "data/tokenize_example.h"
#include "io/json_file.h"

namespace peft {

struct MicroBatch {
  int64_t B = 0, T = 0;
  std::vector<int32_t> ids;            // (B, T) row-major, right-padded with the pad id
  std::vector<int32_t> labels;         // (B, T) HF-style (aligned with ids), kIgnoreLabel at pads
  std::vector<int32_t> modality;       // (B, T) modality ids, 0 (text) at pads and in rows without;
                                       // empty when no example in the batch has any
  std::vector<int32_t> lengths;        // (B) non-pad ids per row; pads follow them
  std::vector<int32_t> token_types;    // (B, T) token types, 0 at pads; empty when no example has any
  std::vector<float> task_labels;      // the head's labels, the examples' task_labels in row order; empty
                                       // for LM examples
  std::vector<int64_t> example_index;  // (B) which examples, as indices into the Batcher's span
  int64_t n_tokens = 0;                // non-pad ids
  int64_t n_loss_tokens = 0;           // labels != kIgnoreLabel
};

// Stacks examples[indices] into one micro-batch, T = the longest row rounded up to
// pad_to_multiple (Hugging Face's collator uses 8 there; 1 pads to the longest row only).
MicroBatch collate(std::span<const TokenizedExample> examples, std::span<const int64_t> indices, int32_t pad_id,
                   int64_t pad_to_multiple = 1);

// Hugging Face's get_length_grouped_indices (Trainer group_by_length): a random permutation
// cut into megabatches of min(N / (4 * micro_batch_size), 50) (at least 1) micro-batches,
// each sorted by length, longest first (stable), and the longest megabatch's first element
// swapped to the very front so an out-of-memory shows up on the first step.
std::vector<int64_t> length_grouped_order(std::span<const int64_t> lengths, int64_t micro_batch_size, Rng& rng);

struct BatcherOptions {
  int64_t micro_batch_size = 4;
  bool shuffle = true;           // a fresh permutation each epoch; false: file order
  bool group_by_length = false;  // implies shuffle (the permutation is inside the grouping)
  uint64_t seed = 42;
  int32_t pad_id = 0;  // LLM-Adapters sets pad_token_id = 0 (unk)
  int64_t pad_to_multiple = 1;
  bool drop_last = false;  // HF's dataloader_drop_last default keeps the partial batch

  Status validate() const;  // names the bad field
};

// Where iteration stands: enough to rebuild the current epoch's order and continue.
struct BatcherState {
  int64_t epoch = 0;
  int64_t position = 0;                 // examples of this epoch's order already handed out
  std::array<uint64_t, 4> rng_state{};  // the RNG as it was before this epoch's order was drawn
  uint64_t seed = 0;                    // checked on restore
  int64_t n_examples = 0;               // checked on restore
};

// {"epoch", "position", "rng_state": ["0x...", x4], "seed": "0x...", "n_examples"}; 64-bit
// values as hex strings so readers with double-only numbers keep them exact.
Json batcher_state_to_json(const BatcherState& state);
Result<BatcherState> batcher_state_from_json(const Json& json, const std::string& where);

class Batcher {
 public:
  // Keeps a view of `examples`: they must outlive the Batcher and stay unchanged. Bad options
  // and an empty span are programming errors here (PEFT_CHECK): validate flags first.
  Batcher(std::span<const TokenizedExample> examples, const BatcherOptions& options);

  // The next micro-batch; after the last one of an epoch the next epoch's order is drawn.
  MicroBatch next();

  int64_t epoch() const { return epoch_; }
  int64_t position() const { return position_; }
  int64_t batches_per_epoch() const;
  std::span<const int64_t> epoch_order() const { return order_; }  // (N) this epoch's order

  BatcherState state() const;
  // Continues exactly where `state` was taken; errors when it belongs to another data set/seed.
  Status restore(const BatcherState& state);

 private:
  void start_epoch();  // draws order_ from rng_, remembering the RNG state first

  std::span<const TokenizedExample> examples_;
  BatcherOptions options_;
  std::vector<int64_t> lengths_;  // (N) ids per example
  std::vector<int64_t> order_;    // (N) example indices for this epoch
  Rng rng_;
  std::array<uint64_t, 4> epoch_rng_state_{};
  int64_t epoch_ = 0;
  int64_t position_ = 0;
};

// LLM-Adapters' train_test_split(test_size=val_set_size, shuffle=True, seed): one seeded
// permutation; its first val_set_size indices are the validation set, the rest training.
// val_set_size 0 keeps every index for training, in order.
struct TrainValSplit {
  std::vector<int64_t> train;  // (n - val_set_size)
  std::vector<int64_t> val;    // (val_set_size)
};
Result<TrainValSplit> train_val_split(int64_t n, int64_t val_set_size, uint64_t seed);

template <typename T>
std::vector<T> select_indices(std::span<const T> items, std::span<const int64_t> indices) {
  std::vector<T> out;
  out.reserve(indices.size());
  for (int64_t i : indices) out.push_back(items[size_t(i)]);
  return out;
}

struct DataStats {
  int64_t examples = 0;
  int64_t truncated = 0;    // examples cut at cutoff_len
  int64_t tokens = 0;       // sum of lengths
  int64_t loss_tokens = 0;  // labels != kIgnoreLabel
  int64_t max_length = 0;
  int64_t min_length = 0;
};
DataStats data_stats(std::span<const TokenizedExample> examples);
// "9427 examples, 1234567 tokens (1200000 with loss), length 40..256, 12 truncated at cutoff"
std::string format_data_stats(const DataStats& stats);

}  // namespace peft
