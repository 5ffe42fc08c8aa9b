// Encoders with task heads and adapters: PEFT 0.6.2's SEQ_CLS LoRA adapters (the classifier in
// modules_to_save) load and give transformers' logits; what we save loads back; the head's and
// the adapter's gradients match finite differences through padding and token types.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "adapters/adapter_io.h"
#include "adapters/registry.h"
#include "cli/cli_runner.h"
#include "io/safetensors.h"
#include "model/decoder.h"
#include "model/encoder_batch.h"
#include "test_paths.h"

namespace peft {
namespace {

using test::encoder_dir;
using Batch = test::EncoderBatch;
Batch read_batch(const SafetensorsFile& io) { return test::read_encoder_batch(io); }

class PeftSeqClsAdapter : public ::testing::TestWithParam<const char*> {};

TEST_P(PeftSeqClsAdapter, LoadsAndGivesPeftsLogitsAndSavesBack) {
  const std::string dir = encoder_dir(GetParam());
  auto model = load_model(dir + "/model");
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  auto adapter = load_adapter(**model, dir + "/lora_adapter");
  ASSERT_TRUE(adapter.is_ok()) << adapter.status().message();
  auto io = SafetensorsFile::open(dir + "/io.safetensors");
  ASSERT_TRUE(io.is_ok());
  const Batch b = read_batch(*io);
  auto logits_with = [&](Adapter* a) {
    Decoder dec(**model, b.B, b.T, a);
    const float loss = dec.forward_task(b.ids.data(), b.labels.data(), b.B, b.T, false, b.inputs());
    const int64_t n = b.B * (*model)->task.num_labels;
    return std::pair{std::vector<float>(dec.task_logits(), dec.task_logits() + n), loss};
  };
  const auto [logits, loss] = logits_with(adapter->get());
  const Tensor* ref = io->find("adapter_logits");
  ASSERT_EQ(ref->numel(), int64_t(logits.size()));
  EXPECT_LE(test::max_abs_diff(logits.data(), ref->f32(), ref->numel()), 1e-4);
  EXPECT_NEAR(loss, *io->find("adapter_loss")->f32(), 1e-4);

  // Saved again it is a SEQ_CLS adapter with the head, and loads back to the same logits.
  test::TempDir tmp;
  ASSERT_TRUE(save_adapter(**adapter, tmp / "a", dir + "/model").is_ok());
  auto config = read_json_file(tmp / "a/adapter_config.json");
  ASSERT_TRUE(config.is_ok());
  EXPECT_EQ((*config)["task_type"], "SEQ_CLS");
  auto saved = SafetensorsFile::open(tmp / "a/adapter_model.safetensors");
  ASSERT_TRUE(saved.is_ok());
  auto original = SafetensorsFile::open(dir + "/lora_adapter/adapter_model.safetensors");
  ASSERT_TRUE(original.is_ok());
  std::set<std::string> saved_names(saved->names().begin(), saved->names().end()),
      original_names(original->names().begin(), original->names().end());
  EXPECT_EQ(saved_names, original_names);
  auto back = load_adapter(**model, tmp / "a");
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(logits_with(back->get()).first, logits);

  // Merged: the LoRA folded into the encoder and the head's copy in the model's place.
  ASSERT_TRUE((*adapter)->merge(**model).is_ok());
  const auto merged = logits_with(nullptr).first;
  EXPECT_LE(test::max_abs_diff(merged.data(), logits.data(), int64_t(logits.size())), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PeftSeqClsAdapter,
                         ::testing::Values("bert_seqcls", "roberta_seqcls", "deberta_v2_seqcls"));

TEST(PeftSeqClsAdapter, ACausalLmAdapterOnAHeadModelIsRefusedByName) {
  const std::string dir = encoder_dir("bert_seqcls");
  auto model = load_model(dir + "/model");
  ASSERT_TRUE(model.is_ok());
  test::TempDir tmp;
  std::filesystem::create_directories(tmp / "a");
  auto config = read_json_file(dir + "/lora_adapter/adapter_config.json");
  (*config)["task_type"] = "CAUSAL_LM";
  ASSERT_TRUE(write_json_file(tmp / "a/adapter_config.json", *config).is_ok());
  std::filesystem::copy_file(dir + "/lora_adapter/adapter_model.safetensors", tmp / "a/adapter_model.safetensors");
  auto loaded = load_adapter(**model, tmp / "a");
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_NE(loaded.status().message().find("task_type is 'CAUSAL_LM'"), std::string::npos) << loaded.status().message();
}

// ∂loss/∂θ of the adapter's parameters and of the head's trainable copy, against central
// differences in double-checked float: through the head, the post-LN blocks, bidirectional
// attention over padded rows and token types.
class EncoderGradients : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

TEST_P(EncoderGradients, MatchFiniteDifferences) {
  const auto [fixture, method] = GetParam();
  auto model = load_model(encoder_dir(fixture) + "/model");
  ASSERT_TRUE(model.is_ok());
  auto io = SafetensorsFile::open(encoder_dir(fixture) + "/io.safetensors");
  const Batch b = read_batch(*io);
  Json config = std::string(method) == "lora" ? Json{{"r", 2}, {"init_lora_weights", "gaussian"}}
                                              : Json{{"bottleneck_size", 4}, {"preset", "houlsby"}};
  auto adapter = find_method(method)->create(**model, config, "test", 3);
  ASSERT_TRUE(adapter.is_ok()) << adapter.status().message();
  Adapter& a = **adapter;
  // Nonzero everywhere, so that every path carries gradient.
  for (int64_t i = 0; i < a.params().method_numel(); ++i)
    a.params().values()[i] = 0.3f * std::sin(float(i) * 1.7f + 0.4f);
  a.reserve(b.B * b.T);
  Decoder dec(**model, b.B, b.T, &a);
  auto loss_at = [&]() { return double(dec.forward_task(b.ids.data(), b.labels.data(), b.B, b.T, false, b.inputs())); };
  a.params().zero_grads();
  dec.forward_task(b.ids.data(), b.labels.data(), b.B, b.T, true, b.inputs());
  dec.backward();
  std::vector<float> grad(a.params().grads(), a.params().grads() + a.params().numel());
  // A spread of indices over the method's parameters and the head's copy.
  const int64_t n = a.params().numel();
  double worst = 0;
  for (int64_t k = 0; k < 24; ++k) {
    const int64_t i = (k * 7919) % n;
    float& p = a.params().values()[i];
    const float saved = p, h = 1e-2f;
    p = saved + h;
    const double up = loss_at();
    p = saved - h;
    const double down = loss_at();
    p = saved;
    const double fd = (up - down) / (2 * double(h));
    worst = std::max(worst, std::fabs(fd - double(grad[size_t(i)])) / std::max(1e-2, std::fabs(fd)));
  }
  EXPECT_LT(worst, 2e-2) << fixture << " " << method;
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, EncoderGradients,
    ::testing::Combine(::testing::Values("bert_seqcls", "roberta_seqcls", "bert_tokcls", "bert_multilabel",
                                         "bert_regression", "deberta_v2_seqcls"),
                       ::testing::Values("lora", "bottleneck")),
    [](const auto& info) { return std::string(std::get<0>(info.param)) + "_" + std::get<1>(info.param); });

}  // namespace
}  // namespace peft
