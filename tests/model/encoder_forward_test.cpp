// Encoders (BERT, RoBERTa, DeBERTa-v2) with their task heads against transformers 4.31: every hidden state
// (padded positions included), the head's logits and the loss transformers computes, on
// right-padded batches with token types (tests/fixtures/encoders, make_encoder_fixtures.py).
#include <gtest/gtest.h>

#include <vector>

#include "io/safetensors.h"
#include "model/decoder.h"
#include "model/encoder_batch.h"
#include "model/model.h"
#include "model/task_head_run.h"
#include "test_paths.h"

namespace peft {
namespace {

using test::encoder_dir;
using Batch = test::EncoderBatch;
Batch read_batch(const SafetensorsFile& io) { return test::read_encoder_batch(io); }

struct Case {
  const char* name;
  TaskType task;
  ProblemType problem;
  int64_t num_labels;
};

class EncoderForward : public ::testing::TestWithParam<Case> {};

TEST_P(EncoderForward, HiddenStatesLogitsAndLossMatchTransformers) {
  const Case& c = GetParam();
  auto model = load_model(encoder_dir(c.name) + "/model");
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  const Model& m = **model;
  EXPECT_EQ(m.task.task, c.task);
  EXPECT_EQ(m.task.problem, c.problem);
  EXPECT_EQ(m.task.num_labels, c.num_labels);
  auto io = SafetensorsFile::open(encoder_dir(c.name) + "/io.safetensors");
  ASSERT_TRUE(io.is_ok()) << io.status().message();
  const Batch batch = read_batch(*io);
  const int64_t B = batch.B, T = batch.T, C = m.config.n_embd;

  Decoder dec(m, B, T);
  dec.forward(batch.ids.data(), nullptr, B, T, false, batch.inputs());
  for (int64_t i = 0; i <= m.config.n_layer; ++i) {
    const Tensor* ref = io->find("hidden_states." + std::to_string(i));
    ASSERT_NE(ref, nullptr);
    EXPECT_LE(test::max_abs_diff(dec.hidden_state(i), ref->f32(), B * T * C), 1e-4) << c.name << " hidden state " << i;
  }
  const int64_t rows = task_head_rows(m, B, T);
  std::vector<float> logits(size_t(rows * c.num_labels));
  task_head_forward(m, nullptr, dec.hidden_state(m.config.n_layer), B, T, logits.data());
  const Tensor* ref = io->find("logits");
  ASSERT_EQ(ref->numel(), int64_t(logits.size()));
  EXPECT_LE(test::max_abs_diff(logits.data(), ref->f32(), ref->numel()), 1e-4) << c.name << " logits";
  const double loss = task_loss(m.task, logits.data(), batch.labels.data(), rows, nullptr);
  EXPECT_NEAR(loss, *io->find("loss")->f32(), 1e-4) << c.name << " loss";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EncoderForward,
                         ::testing::Values(Case{"bert_seqcls", TaskType::SeqCls, ProblemType::SingleLabel, 3},
                                           Case{"bert_regression", TaskType::SeqCls, ProblemType::Regression, 1},
                                           Case{"bert_multilabel", TaskType::SeqCls, ProblemType::MultiLabel, 4},
                                           Case{"bert_tokcls", TaskType::TokenCls, ProblemType::SingleLabel, 5},
                                           Case{"roberta_seqcls", TaskType::SeqCls, ProblemType::SingleLabel, 2},
                                           Case{"deberta_v2_seqcls", TaskType::SeqCls, ProblemType::SingleLabel, 3}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace peft
