// Base-model forward against Hugging Face transformers 4.31 fixtures: logits, loss, hidden states.
#include <gtest/gtest.h>

#include <vector>

#include "io/safetensors.h"
#include "model/decoder.h"
#include "model/inference.h"
#include "model/model.h"
#include "test_paths.h"

namespace peft {
namespace {

struct Batch {
  int64_t B = 0, T = 0;
  std::vector<int32_t> ids, targets;
};

Batch read_batch(const SafetensorsFile& io) {
  Batch b;
  const Tensor* ids = io.find("input_ids");
  const Tensor* labels = io.find("labels");
  EXPECT_TRUE(ids && labels);
  b.B = ids->dim(0);
  b.T = ids->dim(1);
  b.ids.resize(size_t(b.B * b.T));
  std::vector<int32_t> lab(b.ids.size());
  for (size_t i = 0; i < b.ids.size(); ++i) {
    b.ids[i] = int32_t(ids->i64()[i]);
    lab[i] = int32_t(labels->i64()[i]);
  }
  b.targets = std::move(lab);  // Hugging Face labels: the decoder shifts them
  return b;
}

using test::fixture_dir;

class FixtureForward : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureForward, LogitsLossAndHiddenStatesMatchTransformers) {
  const std::string arch = GetParam();
  auto model = load_model(fixture_dir(arch) + "/model");
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  auto io = SafetensorsFile::open(fixture_dir(arch) + "/io.safetensors");
  ASSERT_TRUE(io.is_ok()) << io.status().message();
  Batch batch = read_batch(*io);
  const Model& m = **model;
  const int64_t N = batch.B * batch.T, V = m.config.n_vocab, C = m.config.n_embd;

  Decoder dec(m, batch.B, batch.T);
  float loss = dec.forward(batch.ids.data(), batch.targets.data(), batch.B, batch.T);
  EXPECT_NEAR(loss, *io->find("loss")->f32(), 1e-4);

  std::vector<float> logits(size_t(N * V));
  dec.logits(logits.data());
  const Tensor* ref = io->find("logits");
  ASSERT_EQ(ref->numel(), N * V);
  double err = test::max_abs_diff(logits.data(), ref->f32(), N * V);
  EXPECT_LE(err, 1e-4) << arch << " logits";
  RecordProperty("logits_max_abs_err", std::to_string(err));

  for (int64_t i = 0; i <= m.config.n_layer; ++i) {
    const Tensor* h = io->find("hidden_states." + std::to_string(i));
    ASSERT_NE(h, nullptr);
    const int64_t width = i == m.config.n_layer ? m.config.embd_in() : C;
    ASSERT_EQ(h->numel(), N * width) << "hidden_states." << i;
    EXPECT_LE(test::max_abs_diff(dec.hidden_state(i), h->f32(), N * width), 1e-4) << "hidden_states." << i;
  }

  // The KV-cached inference path gives the same logits, all at once and token by token.
  InferenceRunner full(m, batch.B, batch.T, batch.T);
  std::vector<float> cached(size_t(N * V));
  full.forward(batch.ids.data(), batch.T, cached.data(), true);
  EXPECT_LE(test::max_abs_diff(cached.data(), ref->f32(), N * V), 1e-4);

  // Token by token, except where the frequencies depend on the forward's length (dynamic NTK,
  // LongRoPE past the original length): there transformers' own cached generation differs
  // from its full forward the same way.
  const RopeScaling scaling = m.config.block.rope.scaling;
  if (scaling == RopeScaling::Dynamic || scaling == RopeScaling::LongRope) return;
  InferenceRunner step(m, batch.B, 1, batch.T);
  std::vector<float> last(size_t(batch.B * V));
  std::vector<int32_t> col(size_t(batch.B));
  for (int64_t t = 0; t < batch.T; ++t) {
    for (int64_t b = 0; b < batch.B; ++b) col[size_t(b)] = batch.ids[size_t(b * batch.T + t)];
    step.forward(col.data(), 1, last.data(), false);
    for (int64_t b = 0; b < batch.B; ++b)
      EXPECT_LE(test::max_abs_diff(last.data() + b * V, ref->f32() + (b * batch.T + t) * V, V), 1e-4)
          << "step " << t << " row " << b;
  }
}

// The backward w.r.t. activations agrees with a finite difference of the loss along a random
// direction of the token-embedding rows (the head is kept fixed).
TEST_P(FixtureForward, EmbeddingGradientMatchesFiniteDifference) {
  const std::string arch = GetParam();
  auto model = load_model(fixture_dir(arch) + "/model");
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  auto io = SafetensorsFile::open(fixture_dir(arch) + "/io.safetensors");
  ASSERT_TRUE(io.is_ok());
  Batch batch = read_batch(*io);
  Model& m = **model;
  const int64_t V = m.config.n_vocab, C = m.config.embd_in(), N = batch.B * batch.T;

  // Private copies: perturbing the embedding must not move a tied head.
  OwnedTensor table = to_f32(m.tok_embd);
  OwnedTensor head = to_f32(m.lm_head.w);
  m.tok_embd = table.view();
  m.lm_head.w = head.view();

  Decoder dec(m, batch.B, batch.T);
  dec.forward(batch.ids.data(), batch.targets.data(), batch.B, batch.T, true);
  dec.backward();
  // Direction: the analytic gradient itself, scattered onto the table rows and scaled to a
  // max of 1 — the best-conditioned direction for a float finite difference.
  // d_embed is ∂L/∂(looked-up rows); where the lookup itself is scaled (Gemma 3) the table's
  // gradient carries that scale.
  const float lookup = m.config.embd_scale_tokens_only ? m.config.embd_scale : 1.f;
  std::vector<float> direction(size_t(V * C), 0.f);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < C; ++i)
      direction[size_t(batch.ids[size_t(n)] * C + i)] += lookup * dec.d_embed()[n * C + i];
  float peak = 0.f;
  for (float d : direction) peak = std::max(peak, std::fabs(d));
  ASSERT_GT(peak, 0.f);
  for (float& d : direction) d /= peak;
  double analytic = 0;
  for (float d : direction) analytic += double(d) * double(d) * double(peak);

  const float h = 1e-3f;
  auto loss_at = [&](float scale) {
    for (int64_t i = 0; i < V * C; ++i) table.f32()[i] += scale * direction[size_t(i)];
    float l = dec.forward(batch.ids.data(), batch.targets.data(), batch.B, batch.T);
    for (int64_t i = 0; i < V * C; ++i) table.f32()[i] -= scale * direction[size_t(i)];
    return double(l);
  };
  double numeric = (loss_at(h) - loss_at(-h)) / (2 * h);
  EXPECT_NEAR(analytic, numeric, 2e-2 * std::fabs(numeric) + 1e-4) << arch;
}

INSTANTIATE_TEST_SUITE_P(Archs, FixtureForward,
                         ::testing::Values("llama", "gpt2", "gpt_neox", "bloom", "gptj", "opt", "local:mistral",
                                           "local:mistral_nowindow", "local:qwen2", "local:opt_postln",
                                           "local:bloom_6heads", "local:gpt_neox_seq", "local:gptj_full_rotary",
                                           "local:llama_rope_llama3", "local:llama_rope_linear",
                                           "local:llama_rope_dynamic", "local:llama_rope_yarn",
                                           "local:llama_rope_longrope", "local:qwen3", "local:smollm3", "local:olmo2",
                                           "local:gemma", "local:gemma2", "local:gemma2_scalar", "local:gemma3_text",
                                           "local:phi3", "local:phi3_window"),
                         [](const auto& info) { return test::fixture_name(info.param); });

}  // namespace
}  // namespace peft
