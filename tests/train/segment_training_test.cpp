// Segments through the training pipeline on stories260K: data file → per-token modality ids →
// micro-batches → AdaLink, where a segment's tokens reach the loss only through its module.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "adapters/adalink/adalink.h"
#include "adapters/registry.h"
#include "cli/cli_runner.h"
#include "cli/stories_suite.h"
#include "data/batching.h"
#include "model/decoder.h"
#include "train/train_data.h"

namespace peft {
namespace {

class SegmentTraining : public test::StoriesSuite {
 protected:
  static void SetUpTestSuite() {
    StoriesSuite::SetUpTestSuite();
    data_ = *dir_ / "segments.jsonl";
    std::ofstream f(data_);
    for (int i = 0; i < 8; ++i)
      f << nlohmann::json{{"instruction", "Tell a story about a cat number " + std::to_string(i) + "."},
                          {"input", ""},
                          {"output", "Once upon a time there was a cat. It was " + std::to_string(i) + "."},
                          {"segments", {{{"modality", "instruction"}}, {{"modality", "output"}}}}}
               .dump()
        << "\n";
  }

  static TrainConfig config() {
    TrainConfig c;
    c.model = model_;
    c.data = data_;
    c.output = *dir_ / "unused";
    c.method = "adalink";
    c.val_set_size = 0;
    return c;
  }
  static inline std::string data_;
};

// The hand-built array: the tokens the field makes when tokenized on its own, found as a run.
std::vector<int32_t> by_hand(const Tokenizer& tok, const std::vector<int32_t>& ids, const std::string& ins,
                             const std::string& out) {
  std::vector<int32_t> m(ids.size(), 0);
  for (auto [field, id] : {std::pair{ins, 1}, std::pair{out, 2}}) {
    const std::vector<int32_t> piece = tok.encode(field, false);
    auto it = std::search(ids.begin(), ids.end(), piece.begin(), piece.end());
    EXPECT_NE(it, ids.end()) << field;
    if (it != ids.end()) std::fill_n(m.begin() + (it - ids.begin()), piece.size(), id);
  }
  return m;
}

TEST_F(SegmentTraining, ModalityIdsReachTheLossOnlyThroughTheirModule) {
  const TrainConfig cfg = config();
  auto data = load_train_data(cfg);
  ASSERT_TRUE(data.is_ok()) << data.status().message();
  auto made = find_method("adalink")->create(
      *data->model, Json{{"r", 4}, {"modalities", {"text", "instruction", "output", "code"}}}, "test", 7);
  ASSERT_TRUE(made.is_ok()) << made.status().message();
  Adapter& adapter = **made;
  const auto& names = dynamic_cast<const AdaLinkAdapter&>(adapter).config().modalities;
  ASSERT_TRUE(tokenize_train_data(cfg, *data, names).is_ok());
  ASSERT_EQ(data->train.size(), 8u);

  // The pipeline's modality ids equal the hand-built ones, example by example.
  std::vector<int32_t> hand;  // (B, T) for the batch below
  const std::vector<int64_t> rows = {0, 1, 2, 3};
  MicroBatch mb = collate(data->train, rows, data->pad_id);
  ASSERT_EQ(mb.modality.size(), size_t(mb.B * mb.T));
  hand.assign(mb.modality.size(), 0);
  for (int64_t b = 0; b < mb.B; ++b) {
    const TokenizedExample& ex = data->train[size_t(b)];
    const std::vector<int32_t> want =
        by_hand(*data->tokenizer, ex.ids, "Tell a story about a cat number " + std::to_string(b) + ".",
                "Once upon a time there was a cat. It was " + std::to_string(b) + ".");
    EXPECT_EQ(ex.modality, want) << "example " << b;
    std::copy(want.begin(), want.end(), hand.begin() + b * mb.T);
  }

  // Non-zero modules everywhere (U starts at zero, which would hide everything).
  ParamStore& ps = adapter.params();
  for (int64_t i = 0; i < ps.numel(); ++i) ps.values()[i] = 0.1f * std::sin(1.3f * float(i) + 0.5f);
  Decoder dec(*data->model, mb.B, mb.T, &adapter);
  const int64_t V = data->model->config.n_vocab, NV = mb.B * mb.T * V;
  auto forward = [&](const int32_t* modality, std::vector<float>* logits, bool grad) {
    const float loss = dec.forward(mb.ids.data(), mb.labels.data(), mb.B, mb.T, grad, TokenInputs{modality});
    if (logits) {
      logits->resize(size_t(NV));
      dec.logits(logits->data());
    }
    return loss;
  };
  std::vector<float> from_data, from_hand, all_text;
  const float loss = forward(mb.modality.data(), &from_data, false);
  forward(hand.data(), &from_hand, false);
  forward(nullptr, &all_text, false);
  EXPECT_EQ(test::max_abs_diff(from_data.data(), from_hand.data(), NV), 0.0);
  EXPECT_GT(test::max_abs_diff(from_data.data(), all_text.data(), NV), 1e-4) << "the segments changed nothing";

  // Module k's parameters move the loss only when tokens of modality k are present: the
  // batch has no "code" tokens, so perturbing that module changes nothing, and it gets no gradient.
  auto perturbed = [&](const std::string& modality) {
    const Param& up = ps[size_t(2 * dynamic_cast<const AdaLinkAdapter&>(adapter).modality_id(modality) + 1)];
    EXPECT_EQ(up.name, "adalink." + modality + ".up");
    std::vector<float> saved(up.value.f32(), up.value.f32() + up.value.numel());
    for (int64_t i = 0; i < up.value.numel(); ++i) up.value.f32()[i] += 0.05f;
    const float l = forward(mb.modality.data(), nullptr, false);
    std::copy(saved.begin(), saved.end(), up.value.f32());
    return l;
  };
  EXPECT_EQ(perturbed("code"), loss);
  EXPECT_NE(perturbed("instruction"), loss);
  EXPECT_NE(perturbed("output"), loss);
  EXPECT_NE(perturbed("text"), loss);
  ps.zero_grads();
  forward(mb.modality.data(), nullptr, true);
  dec.backward();
  for (const Param& p : ps.all()) {
    double g = 0;
    for (int64_t i = 0; i < p.grad.numel(); ++i) g += std::fabs(p.grad.f32()[i]);
    if (p.name.starts_with("adalink.code."))
      EXPECT_EQ(g, 0.0) << p.name;
    else
      EXPECT_GT(g, 0.0) << p.name;
  }
}

// Methods without modalities train on the same file with the segments ignored (one note).
TEST_F(SegmentTraining, OtherMethodsIgnoreSegmentsWithANote) {
  TrainConfig cfg = config();
  cfg.method = "lora";
  auto data = load_train_data(cfg);
  ASSERT_TRUE(data.is_ok()) << data.status().message();
  ::testing::internal::CaptureStderr();
  Status s = tokenize_train_data(cfg, *data, {});
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_NE(err.find("8 records carry segments; --method lora takes no modalities, so they are ignored"),
            std::string::npos)
      << err;
  for (const TokenizedExample& ex : data->train) EXPECT_TRUE(ex.modality.empty());
  EXPECT_TRUE(collate(data->train, std::vector<int64_t>{0, 1}, 0).modality.empty());
}

TEST_F(SegmentTraining, UnknownModalityIsAnError) {
  const TrainConfig cfg = config();
  auto data = load_train_data(cfg);
  ASSERT_TRUE(data.is_ok()) << data.status().message();
  const std::vector<std::string> names = {"text", "instruction"};
  Status s = tokenize_train_data(cfg, *data, names);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), data_ +
                             ": line 1: segment modality 'output' is not one of the adapter's modalities (text, "
                             "instruction); add it to --adalink-modalities");
}

// Rows without segments get text (0) next to rows with them, and pads are 0.
TEST(SegmentBatching, MixedRowsAndPads) {
  std::vector<TokenizedExample> ex(2);
  ex[0].ids = {1, 5, 6, 7};
  ex[0].labels = ex[0].ids;
  ex[0].modality = {0, 2, 2, 1};
  ex[1].ids = {1, 5, 6, 7, 8, 9};
  ex[1].labels = ex[1].ids;
  MicroBatch mb = collate(ex, std::vector<int64_t>{0, 1}, 0, 8);
  EXPECT_EQ(mb.T, 8);
  EXPECT_EQ(mb.modality, (std::vector<int32_t>{0, 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(collate(ex, std::vector<int64_t>{1}, 0).modality.empty());
}

}  // namespace
}  // namespace peft
