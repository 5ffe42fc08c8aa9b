// AdaLink against its PyTorch reference, folding into the embeddings, and one batch serving
// several tasks at once.
#include <gtest/gtest.h>

#include <cstring>

#include "adapters/adalink/adalink.h"
#include "adapters/adapter_fixture_util.h"
#include "adapters/adapter_io.h"
#include "adapters/registry.h"
#include "model/decoder.h"
#include "model/model.h"

namespace peft {
namespace {

const std::string kFixture = std::string(PEFT_SOURCE_DIR) + "/tests/fixtures/adalink";

TEST(AdaLink, MatchesTheReference) {
  auto model = load_model(test::fixture_path("llama/model"));
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  auto adapter = load_adapter(**model, kFixture + "/adapter");
  ASSERT_TRUE(adapter.is_ok()) << adapter.status().message();
  auto io = SafetensorsFile::open(kFixture + "/io.safetensors");
  ASSERT_TRUE(io.is_ok()) << io.status().message();
  const Tensor* ids64 = io->find("input_ids");
  const Tensor* mod64 = io->find("modality");
  const int64_t B = ids64->dim(0), T = ids64->dim(1), N = B * T, V = (*model)->config.n_vocab;
  std::vector<int32_t> ids(static_cast<size_t>(N)), modality(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) {
    ids[size_t(i)] = int32_t(ids64->i64()[i]);
    modality[size_t(i)] = int32_t(mod64->i64()[i]);
  }
  Decoder dec(**model, B, T, adapter->get());
  const float loss = dec.forward(ids.data(), ids.data(), B, T, true, modality.data());
  EXPECT_NEAR(loss, *io->find("loss")->f32(), 1e-4);
  std::vector<float> logits(size_t(N * V));
  dec.logits(logits.data());
  EXPECT_LE(test::max_abs_diff(logits.data(), io->find("logits")->f32(), N * V), 1e-4);
  (*adapter)->params().zero_grads();
  dec.backward();
  for (const Param& p : (*adapter)->params().all())
    test::expect_close_rel(p.grad.f32(), *io->find("grad." + p.name), 1e-3, "grad." + p.name);
}

// Rows that use different AdaLink adapters in one batch give exactly what each row gives
// alone: only the inputs change, so tasks share the model's batch.
TEST(AdaLink, OneBatchServesSeveralTasks) {
  auto model = load_model(test::fixture_path("gpt2/model"));
  ASSERT_TRUE(model.is_ok());
  const MethodDef* def = find_method("adalink");
  auto both = def->create(**model, Json{{"r", 4}, {"modalities", {"task_a", "task_b"}}, {"activation", "tanh"}}, "test", 3);
  ASSERT_TRUE(both.is_ok()) << both.status().message();
  for (int64_t i = 0; i < (*both)->params().numel(); ++i)
    (*both)->params().values()[i] = 0.3f * std::sin(float(i));  // non-trivial experts
  const int64_t T = 7, V = (*model)->config.n_vocab;
  std::vector<int32_t> ids = {5, 9, 2, 7, 1, 3, 8, 4, 4, 6, 0, 2, 9, 1};
  std::vector<int32_t> modality(14, 0);
  for (int64_t t = 0; t < T; ++t) modality[size_t(T + t)] = 1;
  Decoder batch(**model, 2, T, both->get());
  batch.forward(ids.data(), nullptr, 2, T, false, modality.data());
  std::vector<float> together(size_t(2 * T * V));
  batch.logits(together.data());
  for (int64_t row = 0; row < 2; ++row) {
    auto single = def->create(**model, Json{{"r", 4}, {"activation", "tanh"}}, "test", 3);
    ASSERT_TRUE(single.is_ok());
    const size_t half = size_t((*single)->params().numel());
    std::memcpy((*single)->params().values(), (*both)->params().values() + row * int64_t(half), half * 4);
    Decoder alone(**model, 1, T, single->get());
    alone.forward(ids.data() + row * T, nullptr, 1, T);
    std::vector<float> own(size_t(T * V));
    alone.logits(own.data());
    EXPECT_LE(test::max_abs_diff(own.data(), together.data() + row * T * V, T * V), 1e-5) << "row " << row;
  }
}

TEST(AdaLink, BadConfigsAndUnfoldableAdaptersAreRefused) {
  auto model = load_model(test::fixture_path("llama/model"));
  ASSERT_TRUE(model.is_ok());
  const MethodDef* def = find_method("adalink");
  EXPECT_FALSE(def->create(**model, Json{{"r", 0}}, "cfg", 1).is_ok());
  EXPECT_FALSE(def->create(**model, Json{{"activation", "swish2"}}, "cfg", 1).is_ok());
  EXPECT_FALSE(def->create(**model, Json{{"modalities", {"text", "text"}}}, "cfg", 1).is_ok());
  auto two = def->create(**model, Json{{"modalities", {"text", "image"}}}, "cfg", 1);
  ASSERT_TRUE(two.is_ok());
  Status merged = (*two)->merge_into(**model);
  EXPECT_FALSE(merged.is_ok());
  EXPECT_NE(merged.message().find("text-only"), std::string::npos) << merged.message();
}

}  // namespace
}  // namespace peft
