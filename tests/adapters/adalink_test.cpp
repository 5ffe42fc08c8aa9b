// AdaLink against its PyTorch reference, folding into the embeddings, and one batch serving
// several tasks at once.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "adapters/adalink/adalink.h"
#include "adapters/adapter_fixture_util.h"
#include "adapters/adapter_io.h"
#include "adapters/registry.h"
#include "kernels/embedding.h"
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
  const float loss = dec.forward(ids.data(), ids.data(), B, T, true, TokenInputs{modality.data()});
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
  auto both =
      def->create(**model, Json{{"r", 4}, {"modalities", {"task_a", "task_b"}}, {"activation", "tanh"}}, "test", 3);
  ASSERT_TRUE(both.is_ok()) << both.status().message();
  for (int64_t i = 0; i < (*both)->params().numel(); ++i)
    (*both)->params().values()[i] = 0.3f * std::sin(float(i));  // non-trivial experts
  const int64_t T = 7, V = (*model)->config.n_vocab;
  std::vector<int32_t> ids = {5, 9, 2, 7, 1, 3, 8, 4, 4, 6, 0, 2, 9, 1};
  std::vector<int32_t> modality(14, 0);
  for (int64_t t = 0; t < T; ++t) modality[size_t(T + t)] = 1;
  Decoder batch(**model, 2, T, both->get());
  batch.forward(ids.data(), nullptr, 2, T, false, TokenInputs{modality.data()});
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

// Library callers may hand a position's embedding in as a vector (another modality's
// encoder output) instead of an id. A vector equal to the table row of the id it replaces
// gives exactly that id's logits, loss and adapter gradients, adapted by the position's
// modality; d_embed() is the gradient a caller's encoder would receive.
TEST(AdaLink, PrecomputedEmbeddingsActLikeTheirTokens) {
  auto model = load_model(test::fixture_path("llama/model"));
  ASSERT_TRUE(model.is_ok());
  const MethodDef* def = find_method("adalink");
  auto adapter =
      def->create(**model, Json{{"r", 3}, {"modalities", {"text", "image"}}, {"activation", "gelu"}}, "test", 5);
  ASSERT_TRUE(adapter.is_ok()) << adapter.status().message();
  for (int64_t i = 0; i < (*adapter)->params().numel(); ++i)
    (*adapter)->params().values()[i] = 0.2f * std::cos(0.7f * float(i));
  const int64_t B = 2, T = 6, V = (*model)->config.n_vocab, Ce = (*model)->config.embd_in();
  const std::vector<int32_t> ids = {5, 9, 2, 7, 1, 3, 8, 4, 4, 6, 0, 2};  // (B, T)
  std::vector<int32_t> modality(size_t(B * T), 0);                        // (B, T)
  std::vector<uint8_t> given(size_t(B * T), 0);                           // (B, T)
  for (int64_t n : {2, 3, 10}) modality[size_t(n)] = given[size_t(n)] = 1;
  std::vector<float> vectors(size_t(B * T * Ce), 0.f);  // (B, T, Ce) table rows at the given positions
  std::vector<int32_t> ids_without = ids;               // (B, T) given positions hold the pad id
  for (int64_t n = 0; n < B * T; ++n)
    if (given[size_t(n)]) {
      embedding_forward(vectors.data() + n * Ce, &ids[size_t(n)], (*model)->tok_embd, 1);
      ids_without[size_t(n)] = 0;
    }

  struct Run {
    float loss;
    std::vector<float> logits, grads, d_embed;
  };
  auto run = [&](const std::vector<int32_t>& in, const TokenInputs& extra) {
    Decoder dec(**model, B, T, adapter->get());
    (*adapter)->params().zero_grads();
    Run r;
    r.loss = dec.forward(in.data(), ids.data(), B, T, true, extra);
    r.logits.resize(size_t(B * T * V));
    dec.logits(r.logits.data());
    dec.backward();
    r.d_embed.assign(dec.d_embed(), dec.d_embed() + B * T * Ce);
    r.grads.assign((*adapter)->params().grads(), (*adapter)->params().grads() + (*adapter)->params().numel());
    return r;
  };
  const Run by_id = run(ids, TokenInputs{modality.data()});
  const Run by_vector = run(ids_without, TokenInputs{modality.data(), vectors.data(), given.data()});
  EXPECT_EQ(by_id.loss, by_vector.loss);
  EXPECT_EQ(test::max_abs_diff(by_id.logits.data(), by_vector.logits.data(), B * T * V), 0.0);
  EXPECT_EQ(test::max_abs_diff(by_id.grads.data(), by_vector.grads.data(), int64_t(by_id.grads.size())), 0.0);
  EXPECT_EQ(test::max_abs_diff(by_id.d_embed.data(), by_vector.d_embed.data(), B * T * Ce), 0.0);
  // The image module's gradient is non-zero: the given vectors went through it.
  const Param& image_up = (*adapter)->params()[3];
  ASSERT_EQ(image_up.name, "adalink.image.up");
  double image_grad = 0;
  for (int64_t i = 0; i < image_up.value.numel(); ++i) image_grad += std::fabs(image_up.grad.f32()[i]);
  EXPECT_GT(image_grad, 0.0);
  // Another vector changes the result; without the flags the ids are used again.
  vectors[size_t(2 * Ce)] += 0.5f;
  const Run moved = run(ids_without, TokenInputs{modality.data(), vectors.data(), given.data()});
  EXPECT_GT(test::max_abs_diff(by_id.logits.data(), moved.logits.data(), B * T * V), 1e-4);
  const Run pads = run(ids_without, TokenInputs{modality.data()});
  EXPECT_GT(test::max_abs_diff(by_id.logits.data(), pads.logits.data(), B * T * V), 1e-4);
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
