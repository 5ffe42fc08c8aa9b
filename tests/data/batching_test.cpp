// Batcher: seeded orders, each example once per epoch, padding, length grouping, resumable state, splits.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "data/batching.h"
#include "data/dataset.h"
#include "test_paths.h"

namespace peft {
namespace {

// Example i has length 1 + (i * 37) % 50, ids 1000*i + t, the first third of labels masked.
std::vector<TokenizedExample> synthetic(int n) {
  std::vector<TokenizedExample> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const int len = 1 + (i * 37) % 50;
    for (int t = 0; t < len; ++t) out[size_t(i)].ids.push_back(1000 * i + t);
    out[size_t(i)].labels = out[size_t(i)].ids;
    out[size_t(i)].n_masked = len / 3;
    std::fill_n(out[size_t(i)].labels.begin(), len / 3, kIgnoreLabel);
  }
  return out;
}

std::vector<MicroBatch> take(Batcher& b, int64_t n) {
  std::vector<MicroBatch> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(b.next());
  return out;
}

void expect_same(const std::vector<MicroBatch>& a, const std::vector<MicroBatch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].example_index, b[i].example_index) << "batch " << i;
    EXPECT_EQ(a[i].ids, b[i].ids) << "batch " << i;
    EXPECT_EQ(a[i].labels, b[i].labels) << "batch " << i;
  }
}

TEST(Batcher, DeterministicForASeedDifferentForAnother) {
  auto ex = synthetic(103);
  BatcherOptions opt;
  opt.micro_batch_size = 4;
  Batcher a(ex, opt), b(ex, opt);
  expect_same(take(a, 60), take(b, 60));  // crosses into the third epoch
  opt.seed = 43;
  Batcher c(ex, opt);
  Batcher a2(ex, BatcherOptions{});
  EXPECT_NE(std::vector<int64_t>(a2.epoch_order().begin(), a2.epoch_order().end()),
            std::vector<int64_t>(c.epoch_order().begin(), c.epoch_order().end()));
}

TEST(Batcher, EveryExampleOncePerEpoch) {
  auto ex = synthetic(103);
  for (bool grouped : {false, true}) {
    BatcherOptions opt;
    opt.micro_batch_size = 4;
    opt.group_by_length = grouped;
    Batcher b(ex, opt);
    EXPECT_EQ(b.batches_per_epoch(), 26);
    std::vector<int64_t> first_order;
    for (int epoch = 0; epoch < 3; ++epoch) {
      EXPECT_EQ(b.epoch(), epoch);
      std::vector<int64_t> seen;
      for (int64_t i = 0; i < b.batches_per_epoch(); ++i) {
        MicroBatch mb = b.next();
        EXPECT_EQ(mb.B, i + 1 < b.batches_per_epoch() ? 4 : 3);  // 103 = 25 * 4 + 3
        seen.insert(seen.end(), mb.example_index.begin(), mb.example_index.end());
      }
      if (epoch == 0) first_order = seen;
      if (epoch == 1) {
        EXPECT_NE(seen, first_order) << "a new order each epoch";
      }
      std::sort(seen.begin(), seen.end());
      std::vector<int64_t> all(ex.size());
      std::iota(all.begin(), all.end(), int64_t(0));
      EXPECT_EQ(seen, all);
    }
  }
}

TEST(Batcher, PaddingAndCounts) {
  auto ex = synthetic(37);
  BatcherOptions opt;
  opt.micro_batch_size = 5;
  opt.pad_id = 7;
  Batcher b(ex, opt);
  for (int64_t i = 0; i < b.batches_per_epoch(); ++i) {
    MicroBatch mb = b.next();
    int64_t longest = 0, tokens = 0, loss = 0;
    for (int64_t r = 0; r < mb.B; ++r) {
      const TokenizedExample& e = ex[size_t(mb.example_index[size_t(r)])];
      const int64_t len = int64_t(e.ids.size());
      EXPECT_EQ(mb.lengths[size_t(r)], len);
      longest = std::max(longest, len);
      tokens += len;
      loss += len - e.n_masked;
      for (int64_t t = 0; t < mb.T; ++t) {
        const size_t k = size_t(r * mb.T + t);
        EXPECT_EQ(mb.ids[k], t < len ? e.ids[size_t(t)] : 7);
        EXPECT_EQ(mb.labels[k], t < len ? e.labels[size_t(t)] : kIgnoreLabel);
      }
    }
    EXPECT_EQ(mb.T, longest);
    EXPECT_EQ(int64_t(mb.ids.size()), mb.B * mb.T);
    EXPECT_EQ(mb.n_tokens, tokens);
    EXPECT_EQ(mb.n_loss_tokens, loss);
  }
  opt.pad_to_multiple = 8;
  Batcher eight(ex, opt);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(eight.next().T % 8, 0);
}

TEST(Batcher, NoShuffleKeepsFileOrderAndDropLast) {
  auto ex = synthetic(10);
  BatcherOptions opt;
  opt.micro_batch_size = 4;
  opt.shuffle = false;
  opt.drop_last = true;
  Batcher b(ex, opt);
  EXPECT_EQ(b.batches_per_epoch(), 2);
  EXPECT_EQ(b.next().example_index, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(b.next().example_index, (std::vector<int64_t>{4, 5, 6, 7}));
  EXPECT_EQ(b.epoch(), 1);
  EXPECT_EQ(b.next().example_index, (std::vector<int64_t>{0, 1, 2, 3}));
}

TEST(Batcher, LengthGroupedOrderFollowsHuggingFace) {
  auto ex = synthetic(1000);
  std::vector<int64_t> lengths;
  for (const auto& e : ex) lengths.push_back(int64_t(e.ids.size()));
  Rng rng(5);
  std::vector<int64_t> order = length_grouped_order(lengths, 4, rng);  // megabatches of 50 * 4
  std::vector<int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], int64_t(i));
  EXPECT_EQ(lengths[size_t(order[0])], 50);  // the longest example leads
  for (size_t mega = 0; mega < 1000; mega += 200)
    for (size_t i = mega + 2; i < mega + 200; ++i)  // index mega+0 may hold the swapped-in element
      EXPECT_GE(lengths[size_t(order[i - 1])], lengths[size_t(order[i])]) << i;
}

TEST(Batcher, LengthGroupingReducesPaddingOnBoolq) {
  auto records = load_dataset(test::shared_path("data/datasets/llm_adapters/dataset/boolq/train.json"));
  ASSERT_TRUE(records.is_ok()) << records.status().message();
  auto tok = load_tokenizer(test::shared_path("data/models/stories260K/tok512.model"));
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  std::vector<TokenizedExample> ex = tokenize_records(**tok, *records, TokenizeOptions{});
  auto padded = [&](bool grouped) {
    BatcherOptions opt;
    opt.group_by_length = grouped;
    Batcher b(ex, opt);
    int64_t cells = 0, tokens = 0;
    for (int64_t i = 0; i < b.batches_per_epoch(); ++i) {
      MicroBatch mb = b.next();
      cells += mb.B * mb.T;
      tokens += mb.n_tokens;
    }
    return double(cells - tokens) / double(tokens);
  };
  const double random_pad = padded(false), grouped_pad = padded(true);
  RecordProperty("pad_fraction_random", std::to_string(random_pad));
  RecordProperty("pad_fraction_grouped", std::to_string(grouped_pad));
  EXPECT_LT(grouped_pad, random_pad * 0.25) << "random " << random_pad << " grouped " << grouped_pad;
}

TEST(Batcher, StateRoundTripContinuesIdentically) {
  auto ex = synthetic(103);
  for (bool grouped : {false, true}) {
    for (int64_t stop : {int64_t(0), int64_t(7), int64_t(26), int64_t(40)}) {  // 26 = an epoch boundary
      BatcherOptions opt;
      opt.group_by_length = grouped;
      opt.seed = 1234;
      Batcher a(ex, opt);
      take(a, stop);
      const std::string saved = batcher_state_to_json(a.state()).dump();
      auto state = batcher_state_from_json(Json::parse(saved), "state.json");
      ASSERT_TRUE(state.is_ok()) << state.status().message();
      Batcher b(ex, opt);
      take(b, 3);  // a different position first: restore must not depend on it
      ASSERT_TRUE(b.restore(*state).is_ok());
      EXPECT_EQ(b.epoch(), a.epoch());
      EXPECT_EQ(b.position(), a.position());
      expect_same(take(a, 60), take(b, 60));
    }
  }
}

TEST(Batcher, RestoreRejectsForeignState) {
  auto ex = synthetic(20);
  Batcher a(ex, BatcherOptions{});
  BatcherState s = a.state();
  s.n_examples = 21;
  EXPECT_EQ(a.restore(s).message(), "batcher state is for 21 examples, the data set has 20");
  s = a.state();
  s.seed = 7;
  EXPECT_EQ(a.restore(s).message(), "batcher state is for seed 7, this run uses 42");
  s = a.state();
  s.position = 20;
  EXPECT_FALSE(a.restore(s).is_ok());

  Json j = batcher_state_to_json(a.state());
  j["rng_state"][2] = 12;
  auto bad = batcher_state_from_json(j, "ckpt/trainer_state.json");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message(),
            "ckpt/trainer_state.json: field 'rng_state[2]' must be a hex string like \"0x00ff\", found 12");
  j = batcher_state_to_json(a.state());
  j.erase("epoch");
  EXPECT_EQ(batcher_state_from_json(j, "s.json").status().message(), "s.json: field 'epoch' missing");
}

TEST(Batcher, OptionsValidate) {
  BatcherOptions opt;
  EXPECT_TRUE(opt.validate().is_ok());
  opt.micro_batch_size = 0;
  EXPECT_EQ(opt.validate().message(), "micro_batch_size must be at least 1, got 0");
}

TEST(TrainValSplit, DisjointSeededAndComplete) {
  auto s = train_val_split(1000, 120, 42);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_EQ(s->val.size(), 120u);
  EXPECT_EQ(s->train.size(), 880u);
  std::set<int64_t> all(s->train.begin(), s->train.end());
  for (int64_t v : s->val) EXPECT_FALSE(all.count(v)) << v;
  all.insert(s->val.begin(), s->val.end());
  EXPECT_EQ(all.size(), 1000u);
  EXPECT_EQ(*all.rbegin(), 999);
  auto again = train_val_split(1000, 120, 42);
  EXPECT_EQ(again->val, s->val);
  EXPECT_EQ(again->train, s->train);
  EXPECT_NE(train_val_split(1000, 120, 43)->val, s->val);

  auto none = train_val_split(5, 0, 42);
  EXPECT_EQ(none->train, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(none->val.empty());
  EXPECT_EQ(train_val_split(100, 100, 42).status().message(),
            "val_set_size 100 leaves no training examples (the data set has 100)");

  std::vector<int> items{10, 11, 12, 13, 14};
  std::vector<int64_t> pick{4, 0};
  EXPECT_EQ(select_indices<int>(items, pick), (std::vector<int>{14, 10}));
}

TEST(DataStats, Counts) {
  auto ex = synthetic(4);  // lengths 1, 38, 25, 12
  ex[1].truncated = true;
  DataStats s = data_stats(ex);
  EXPECT_EQ(s.examples, 4);
  EXPECT_EQ(s.truncated, 1);
  EXPECT_EQ(s.tokens, 1 + 38 + 25 + 12);
  EXPECT_EQ(s.loss_tokens, (1 - 0) + (38 - 12) + (25 - 8) + (12 - 4));
  EXPECT_EQ(s.max_length, 38);
  EXPECT_EQ(s.min_length, 1);
  EXPECT_EQ(format_data_stats(s), "4 examples, 76 tokens (52 with loss), length 1..38, 1 truncated at cutoff");
}

}  // namespace
}  // namespace peft
