// Methods against Hugging Face PEFT 0.6.2 fixtures (a row per method × architecture): logits,
// loss, every gradient, the 3-step AdamW trajectory and the merged model.
#include <gtest/gtest.h>

#include "adapters/adapter_fixture_util.h"
#include "adapters/adapter_io.h"
#include "kernels/adamw.h"
#include "model/decoder.h"
#include "model/model.h"

namespace peft {
namespace {

class PeftFixture : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(PeftFixture, MatchesPeft) {
  const auto& [method, arch] = GetParam();
  const std::string dir = test::fixture_path(arch + "/" + method);
  auto model = load_model(test::fixture_path(arch + "/model"));
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  auto adapter = load_adapter(**model, dir + "/adapter");
  ASSERT_TRUE(adapter.is_ok()) << adapter.status().message();
  auto io = SafetensorsFile::open(dir + "/io.safetensors");
  auto train = SafetensorsFile::open(dir + "/train.safetensors");
  auto base_io = SafetensorsFile::open(test::fixture_path(arch + "/io.safetensors"));
  ASSERT_TRUE(io.is_ok() && train.is_ok() && base_io.is_ok());
  test::FixtureBatch batch = test::read_fixture_batch(*base_io);  // every method shares the batch
  const int64_t V = (*model)->config.n_vocab;
  Adapter& adapted = **adapter;
  // Prompt tuning adds virtual positions; PEFT's logits cover them too ([B, nv + T, V]).
  const int64_t N = batch.B * (batch.T + adapted.num_virtual_tokens());
  adapted.reserve(N);

  Decoder dec(**model, batch.B, batch.T, &adapted);
  float loss = dec.forward(batch.ids.data(), batch.labels.data(), batch.B, batch.T, true);
  EXPECT_NEAR(loss, *io->find("loss")->f32(), 1e-4);
  ASSERT_EQ(io->find("logits")->numel(), N * V);
  std::vector<float> logits(size_t(N * V));
  dec.logits(logits.data());
  const double logits_err = test::max_abs_diff(logits.data(), io->find("logits")->f32(), N * V);
  EXPECT_LE(logits_err, 1e-4);
  RecordProperty("logits_max_abs_err", std::to_string(logits_err));

  adapted.params().zero_grads();
  dec.backward();
  for (const Param& p : adapted.params().all()) {
    const Tensor* ref = io->find("grad." + p.name);
    ASSERT_NE(ref, nullptr) << p.name;
    test::expect_close_rel(p.grad.f32(), *ref, 1e-3, "grad." + p.name);
  }

  // Three AdamW steps on the fixed batch (lr 1e-2, no weight decay).
  ParamStore& ps = adapted.params();
  std::vector<float> m(size_t(ps.numel()), 0.f), v(size_t(ps.numel()), 0.f);
  const Tensor* losses = train->find("losses");
  for (int64_t step = 1; step <= 3; ++step) {
    ps.zero_grads();
    float l = dec.forward(batch.ids.data(), batch.labels.data(), batch.B, batch.T, true);
    EXPECT_NEAR(l, losses->f32()[step - 1], step == 1 ? 1e-4 : 1e-3) << "loss before step " << step;
    dec.backward();
    adamw_step(ps.values(), ps.grads(), m.data(), v.data(), ps.numel(), step, AdamWHyper{1e-2f});
  }
  auto initial = SafetensorsFile::open(dir + "/adapter/adapter_model.safetensors");
  for (const Param& p : ps.all())
    test::expect_adamw_endpoint(p.value.f32(), *train->find("final." + p.name), *initial->find(p.name),
                                "final." + p.name);

  // Merged weights give the same logits (PEFT's merge_and_unload); fixtures of methods that
  // cannot merge carry no merged_logits, and merging must be refused.
  auto fresh = load_adapter(**model, dir + "/adapter");
  ASSERT_TRUE(fresh.is_ok());
  if (!io->find("merged_logits")) {
    EXPECT_FALSE((*fresh)->merge_into(**model).is_ok());
    return;
  }
  ASSERT_TRUE((*fresh)->merge_into(**model).is_ok());
  Decoder merged(**model, batch.B, batch.T);
  merged.forward(batch.ids.data(), nullptr, batch.B, batch.T);
  merged.logits(logits.data());
  EXPECT_LE(test::max_abs_diff(logits.data(), io->find("merged_logits")->f32(), N * V), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Methods, PeftFixture,
                         ::testing::Combine(::testing::Values("lora", "ia3"),
                                            ::testing::Values("llama", "gpt2", "gpt_neox", "bloom", "gptj", "opt")),
                         [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

INSTANTIATE_TEST_SUITE_P(Bottleneck, PeftFixture,
                         ::testing::Combine(::testing::Values("bottleneck_series", "bottleneck_parallel"),
                                            ::testing::Values("llama")),
                         [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

INSTANTIATE_TEST_SUITE_P(PromptLearning, PeftFixture,
                         ::testing::Combine(::testing::Values("prefix_tuning", "prompt_tuning"),
                                            ::testing::Values("llama", "gpt2", "gpt_neox", "bloom", "gptj", "opt")),
                         [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

}  // namespace
}  // namespace peft
