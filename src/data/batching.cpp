// Batcher: per-epoch orders from one seeded RNG, HF-style length grouping, padding and state.
#include "data/batching.h"

#include <algorithm>
#include <charconv>
#include <numeric>

#include "core/check.h"

namespace peft {

MicroBatch collate(std::span<const TokenizedExample> examples, std::span<const int64_t> indices, int32_t pad_id,
                   int64_t pad_to_multiple) {
  MicroBatch mb;
  mb.B = int64_t(indices.size());
  for (int64_t i : indices) mb.T = std::max<int64_t>(mb.T, int64_t(examples[size_t(i)].ids.size()));
  if (pad_to_multiple > 1) mb.T = (mb.T + pad_to_multiple - 1) / pad_to_multiple * pad_to_multiple;
  mb.ids.assign(size_t(mb.B * mb.T), pad_id);
  mb.labels.assign(size_t(mb.B * mb.T), kIgnoreLabel);
  mb.lengths.resize(size_t(mb.B));
  mb.example_index.assign(indices.begin(), indices.end());
  const bool any_modality =
      std::any_of(indices.begin(), indices.end(), [&](int64_t i) { return !examples[size_t(i)].modality.empty(); });
  if (any_modality) mb.modality.assign(size_t(mb.B * mb.T), 0);
  const bool any_types =
      std::any_of(indices.begin(), indices.end(), [&](int64_t i) { return !examples[size_t(i)].token_types.empty(); });
  if (any_types) mb.token_types.assign(size_t(mb.B * mb.T), 0);
  for (int64_t b = 0; b < mb.B; ++b) {
    const TokenizedExample& ex = examples[size_t(indices[size_t(b)])];
    PEFT_CHECK(ex.labels.size() == ex.ids.size(), "example {}: {} labels for {} ids", indices[size_t(b)],
               ex.labels.size(), ex.ids.size());
    std::copy(ex.ids.begin(), ex.ids.end(), mb.ids.begin() + b * mb.T);
    std::copy(ex.labels.begin(), ex.labels.end(), mb.labels.begin() + b * mb.T);
    if (!ex.modality.empty()) {
      PEFT_CHECK(ex.modality.size() == ex.ids.size(), "example {}: {} modality ids for {} ids", indices[size_t(b)],
                 ex.modality.size(), ex.ids.size());
      std::copy(ex.modality.begin(), ex.modality.end(), mb.modality.begin() + b * mb.T);
    }
    if (!ex.token_types.empty()) {
      PEFT_CHECK(ex.token_types.size() == ex.ids.size(), "example {}: {} token types for {} ids", indices[size_t(b)],
                 ex.token_types.size(), ex.ids.size());
      std::copy(ex.token_types.begin(), ex.token_types.end(), mb.token_types.begin() + b * mb.T);
    }
    mb.task_labels.insert(mb.task_labels.end(), ex.task_labels.begin(), ex.task_labels.end());
    mb.lengths[size_t(b)] = int32_t(ex.ids.size());
    mb.n_tokens += int64_t(ex.ids.size());
    mb.n_loss_tokens += std::count_if(ex.labels.begin(), ex.labels.end(), [](int32_t l) { return l != kIgnoreLabel; });
  }
  return mb;
}

namespace {

// Fisher-Yates; drawing j from [0, i] keeps every permutation equally likely.
std::vector<int64_t> random_permutation(int64_t n, Rng& rng) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), int64_t(0));
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[size_t(i)], p[size_t(rng.below(uint64_t(i) + 1))]);
  return p;
}

}  // namespace

std::vector<int64_t> length_grouped_order(std::span<const int64_t> lengths, int64_t micro_batch_size, Rng& rng) {
  const int64_t n = int64_t(lengths.size());
  const int64_t mult = std::max<int64_t>(1, std::min<int64_t>(n / (micro_batch_size * 4), 50));
  const int64_t mega = mult * micro_batch_size;
  std::vector<int64_t> order = random_permutation(n, rng);
  auto longer = [&](int64_t a, int64_t b) { return lengths[size_t(a)] > lengths[size_t(b)]; };
  int64_t longest_start = 0;  // start of the megabatch whose first (longest) element is longest overall
  for (int64_t start = 0; start < n; start += mega) {
    const int64_t end = std::min(n, start + mega);
    std::stable_sort(order.begin() + start, order.begin() + end, longer);  // Python's sorted is stable
    if (lengths[size_t(order[size_t(start)])] > lengths[size_t(order[size_t(longest_start)])]) longest_start = start;
  }
  if (n > 0) std::swap(order[0], order[size_t(longest_start)]);
  return order;
}

Status BatcherOptions::validate() const {
  if (micro_batch_size < 1) return Status::errorf("micro_batch_size must be at least 1, got {}", micro_batch_size);
  if (pad_to_multiple < 1) return Status::errorf("pad_to_multiple must be at least 1, got {}", pad_to_multiple);
  if (pad_id < 0) return Status::errorf("pad_id must be a token id (>= 0), got {}", pad_id);
  return Status::ok();
}

Batcher::Batcher(std::span<const TokenizedExample> examples, const BatcherOptions& options)
    : examples_(examples), options_(options), rng_(options.seed) {
  Status valid = options.validate();
  PEFT_CHECK(valid.is_ok(), "{}", valid.message());
  PEFT_CHECK(!examples.empty(), "Batcher needs at least one example");
  lengths_.reserve(examples.size());
  for (const TokenizedExample& ex : examples) lengths_.push_back(int64_t(ex.ids.size()));
  start_epoch();
}

void Batcher::start_epoch() {
  epoch_rng_state_ = rng_.state();
  const int64_t n = int64_t(examples_.size());
  if (options_.group_by_length) {
    order_ = length_grouped_order(lengths_, options_.micro_batch_size, rng_);
  } else if (options_.shuffle) {
    order_ = random_permutation(n, rng_);
  } else {
    order_.resize(size_t(n));
    std::iota(order_.begin(), order_.end(), int64_t(0));
  }
  position_ = 0;
}

int64_t Batcher::batches_per_epoch() const {
  const int64_t n = int64_t(examples_.size()), b = options_.micro_batch_size;
  return options_.drop_last ? std::max<int64_t>(1, n / b) : (n + b - 1) / b;
}

MicroBatch Batcher::next() {
  // drop_last ends the epoch before a short final batch (but keeps one batch when N < B).
  const int64_t epoch_end = std::min(int64_t(order_.size()), batches_per_epoch() * options_.micro_batch_size);
  const int64_t take = std::min(options_.micro_batch_size, epoch_end - position_);
  std::span<const int64_t> rows(order_.data() + position_, size_t(take));
  MicroBatch mb = collate(examples_, rows, options_.pad_id, options_.pad_to_multiple);
  position_ += take;
  if (position_ >= epoch_end) {
    ++epoch_;
    start_epoch();
  }
  return mb;
}

BatcherState Batcher::state() const {
  return BatcherState{epoch_, position_, epoch_rng_state_, options_.seed, int64_t(examples_.size())};
}

Status Batcher::restore(const BatcherState& s) {
  if (s.n_examples != int64_t(examples_.size()))
    return Status::errorf("batcher state is for {} examples, the data set has {}", s.n_examples, examples_.size());
  if (s.seed != options_.seed)
    return Status::errorf("batcher state is for seed {}, this run uses {}", s.seed, options_.seed);
  const int64_t epoch_end = std::min(s.n_examples, batches_per_epoch() * options_.micro_batch_size);
  if (s.epoch < 0 || s.position < 0 || s.position >= epoch_end)
    return Status::errorf("batcher state epoch {} position {} out of range for {} examples", s.epoch, s.position,
                          s.n_examples);
  rng_.set_state(s.rng_state);
  start_epoch();  // redraws the same order the saved run was in the middle of
  epoch_ = s.epoch;
  position_ = s.position;
  return Status::ok();
}

namespace {

std::string hex64(uint64_t v) { return fmt::format("0x{:016x}", v); }

Result<uint64_t> parse_hex64(const Json& v, const std::string& field, const std::string& where) {
  std::string s = v.is_string() ? v.get<std::string>() : "";
  uint64_t out = 0;
  const char* b = s.data() + (s.starts_with("0x") ? 2 : 0);
  auto [end, ec] = std::from_chars(b, s.data() + s.size(), out, 16);
  if (!v.is_string() || ec != std::errc() || end != s.data() + s.size() || b == end)
    return Status::errorf("{}: field '{}' must be a hex string like \"0x00ff\", found {}", where, field, v.dump());
  return out;
}

}  // namespace

Json batcher_state_to_json(const BatcherState& s) {
  Json rng = Json::array();
  for (uint64_t w : s.rng_state) rng.push_back(hex64(w));
  return Json{{"epoch", s.epoch},
              {"position", s.position},
              {"rng_state", rng},
              {"seed", hex64(s.seed)},
              {"n_examples", s.n_examples}};
}

Result<BatcherState> batcher_state_from_json(const Json& json, const std::string& where) {
  BatcherState s;
  PEFT_ASSIGN_OR_RETURN(s.epoch, json_get_int(json, "epoch", where));
  PEFT_ASSIGN_OR_RETURN(s.position, json_get_int(json, "position", where));
  PEFT_ASSIGN_OR_RETURN(s.n_examples, json_get_int(json, "n_examples", where));
  if (!json.contains("seed")) return Status::errorf("{}: field 'seed' missing", where);
  PEFT_ASSIGN_OR_RETURN(s.seed, parse_hex64(json["seed"], "seed", where));
  auto rng = json.find("rng_state");
  if (rng == json.end() || !rng->is_array() || rng->size() != 4)
    return Status::errorf("{}: field 'rng_state' must be an array of 4 hex strings", where);
  for (size_t i = 0; i < 4; ++i) {
    PEFT_ASSIGN_OR_RETURN(s.rng_state[i], parse_hex64((*rng)[i], fmt::format("rng_state[{}]", i), where));
  }
  return s;
}

Result<TrainValSplit> train_val_split(int64_t n, int64_t val_set_size, uint64_t seed) {
  if (val_set_size < 0) return Status::errorf("val_set_size must be >= 0, got {}", val_set_size);
  if (val_set_size >= n)
    return Status::errorf("val_set_size {} leaves no training examples (the data set has {})", val_set_size, n);
  TrainValSplit split;
  if (val_set_size == 0) {
    split.train.resize(size_t(n));
    std::iota(split.train.begin(), split.train.end(), int64_t(0));
    return split;
  }
  Rng rng(seed);
  std::vector<int64_t> perm = random_permutation(n, rng);
  split.val.assign(perm.begin(), perm.begin() + val_set_size);
  split.train.assign(perm.begin() + val_set_size, perm.end());
  return split;
}

DataStats data_stats(std::span<const TokenizedExample> examples) {
  DataStats s;
  s.examples = int64_t(examples.size());
  s.min_length = examples.empty() ? 0 : INT64_MAX;
  for (const TokenizedExample& ex : examples) {
    const int64_t len = int64_t(ex.ids.size());
    s.truncated += ex.truncated ? 1 : 0;
    s.tokens += len;
    s.loss_tokens += std::count_if(ex.labels.begin(), ex.labels.end(), [](int32_t l) { return l != kIgnoreLabel; });
    s.max_length = std::max(s.max_length, len);
    s.min_length = std::min(s.min_length, len);
  }
  return s;
}

std::string format_data_stats(const DataStats& s) {
  return fmt::format("{} examples, {} tokens ({} with loss), length {}..{}, {} truncated at cutoff", s.examples,
                     s.tokens, s.loss_tokens, s.min_length, s.max_length, s.truncated);
}

}  // namespace peft
