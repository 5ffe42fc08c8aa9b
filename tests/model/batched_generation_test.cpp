// Batched generation with left padding, on every architecture fixture, bare and with adapters:
// a left-padded row's logits match the row alone (1e-4), batched greedy decoding gives exactly
// the tokens of decoding each prompt alone, and continuations of one repeated row match whole
// rows.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "adapters/adapter_io.h"
#include "model/generate.h"
#include "model/inference.h"
#include "model/model.h"
#include "test_paths.h"

namespace peft {
namespace {

struct Case {
  std::string arch;     // ../shared/fixtures/<arch>, or local:<name> for tests/fixtures/<name>
  std::string adapter;  // a method folder of the fixture, or "" for the bare model
};

std::string fixture_dir(const std::string& name) {
  if (name.rfind("local:", 0) == 0) return std::string(PEFT_SOURCE_DIR) + "/tests/fixtures/" + name.substr(6);
  return test::fixture_path(name);
}

std::vector<std::vector<int32_t>> random_prompts(const std::vector<int64_t>& lens, int64_t vocab, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int32_t> id(3, int32_t(vocab - 1));  // clear of pad/bos/eos ids
  std::vector<std::vector<int32_t>> p;
  for (int64_t n : lens) {
    p.emplace_back(static_cast<size_t>(n));
    for (auto& x : p.back()) x = id(gen);
  }
  return p;
}

class BatchedGeneration : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const Case& c = GetParam();
    auto m = load_model(fixture_dir(c.arch) + "/model");
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    model_ = std::move(*m);
    if (c.adapter.empty()) return;
    auto a = load_adapter(*model_, fixture_dir(c.arch) + "/" + c.adapter + "/adapter");
    ASSERT_TRUE(a.is_ok()) << a.status().message();
    adapter_ = std::move(*a);
  }
  std::unique_ptr<Model> model_;
  std::unique_ptr<Adapter> adapter_;
};

TEST_P(BatchedGeneration, LeftPaddedLogitsMatchEachRowAlone) {
  const Model& m = *model_;
  const int64_t V = m.config.n_vocab;
  const auto prompts = random_prompts({6, 2, 9, 1, 4}, V, 7);
  const int64_t B = int64_t(prompts.size()), P = 9;
  std::vector<int32_t> ids(size_t(B * P), 0), pad(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    pad[size_t(b)] = int32_t(P - int64_t(prompts[size_t(b)].size()));
    std::copy(prompts[size_t(b)].begin(), prompts[size_t(b)].end(), ids.begin() + b * P + pad[size_t(b)]);
  }
  // Prompt forward, then two decode steps, every row padded.
  InferenceRunner batch(m, B, P, P + 2, adapter_.get());
  batch.set_left_padding(pad);
  std::vector<float> got(size_t(B * V));
  std::vector<std::vector<float>> steps;
  batch.forward(ids.data(), P, got.data(), false);
  steps.push_back(got);
  const std::vector<int32_t> next1 = {5, 6, 7, 8, 9}, next2 = {10, 11, 12, 13, 14};
  for (const auto* next : {&next1, &next2}) {
    batch.forward(next->data(), 1, got.data(), false);
    steps.push_back(got);
  }
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompts[size_t(b)];
    InferenceRunner alone(m, 1, int64_t(p.size()), int64_t(p.size()) + 2, adapter_.get());
    std::vector<float> want(static_cast<size_t>(V));
    alone.forward(p.data(), int64_t(p.size()), want.data(), false);
    EXPECT_LE(test::max_abs_diff(steps[0].data() + b * V, want.data(), V), 1e-4) << "row " << b << " first step";
    for (int s = 0; s < 2; ++s) {
      const int32_t id = (s == 0 ? next1 : next2)[size_t(b)];
      alone.forward(&id, 1, want.data(), false);
      EXPECT_LE(test::max_abs_diff(steps[size_t(s + 1)].data() + b * V, want.data(), V), 1e-4)
          << "row " << b << " decode step " << s;
    }
  }
}

// Likelihood scoring's path (eval/likelihood.cpp): a shared prefix runs once in one row, then
// select_rows repeats that row's cache for every continuation. Each continuation's logits match
// the whole row run alone (virtual tokens and prefixes of the adapters included).
TEST_P(BatchedGeneration, RepeatedRowContinuationsMatchWholeRows) {
  const Model& m = *model_;
  const int64_t V = m.config.n_vocab, S = 5, L = 3, B = 3;
  const auto prefix = random_prompts({S}, V, 3)[0];
  const auto conts = random_prompts({L, L, L}, V, 4);
  InferenceRunner shared(m, B, S, S + L, adapter_.get());
  std::vector<float> last(static_cast<size_t>(V));
  shared.select_rows({0});
  shared.forward(prefix.data(), S, last.data(), false);
  shared.select_rows({0, 0, 0});
  std::vector<int32_t> ids;
  for (const auto& c : conts) ids.insert(ids.end(), c.begin(), c.end());
  std::vector<float> got(size_t(B * L * V));
  shared.forward(ids.data(), L, got.data(), true);
  const int64_t nv = adapter_ ? adapter_->num_virtual_tokens() : 0;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<int32_t> row = prefix;
    row.insert(row.end(), conts[size_t(b)].begin(), conts[size_t(b)].end());
    InferenceRunner alone(m, 1, S + L, S + L, adapter_.get());
    std::vector<float> want(size_t((nv + S + L) * V));
    alone.forward(row.data(), S + L, want.data(), true);
    for (int64_t t = 0; t < L; ++t)
      EXPECT_LE(test::max_abs_diff(got.data() + (b * L + t) * V, want.data() + (nv + S + t) * V, V), 1e-4)
          << "row " << b << " position " << S + t;
  }
}

TEST_P(BatchedGeneration, BatchedGreedyGivesEachPromptsTokens) {
  const Model& m = *model_;
  GenerateOptions opt;
  opt.max_new_tokens = 10;
  opt.hooks = adapter_.get();
  opt.stop_at_eos = true;
  const auto prompts = random_prompts({5, 1, 11, 3, 8, 8}, m.config.n_vocab, 11);
  auto batched = generate_batch(m, prompts, opt);
  ASSERT_TRUE(batched.is_ok()) << batched.status().message();
  ASSERT_EQ(batched->size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto alone = generate(m, prompts[i], opt);
    ASSERT_TRUE(alone.is_ok()) << alone.status().message();
    EXPECT_EQ((*batched)[i], *alone) << "prompt " << i;
  }
  // A token the model emits made the EOS: rows end at different steps and leave the batch.
  const int32_t eos = m.config.eos_id;
  model_->config.eos_id = (*batched)[2][3];
  auto with_eos = generate_batch(m, prompts, opt);
  ASSERT_TRUE(with_eos.is_ok());
  size_t ended = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto alone = generate(m, prompts[i], opt);
    ASSERT_TRUE(alone.is_ok());
    EXPECT_EQ((*with_eos)[i], *alone) << "prompt " << i << " with an early EOS";
    ended += alone->size() < size_t(opt.max_new_tokens);
  }
  EXPECT_GE(ended, 1u);
  model_->config.eos_id = eos;
  // Prompts near the end of the context: rows stop at different steps (the longest after one
  // token), and the rest carry on without them. Bare model and LoRA only: virtual and prefix
  // tokens would push learned positions past the fixture's table.
  const int64_t n_ctx = m.config.n_ctx;
  if (n_ctx > 128 || (adapter_ && adapter_->num_virtual_tokens() + adapter_->num_prefix_tokens() > 0)) return;
  const auto near_end = random_prompts({n_ctx - 3, n_ctx - 8, n_ctx, 4}, m.config.n_vocab, 13);
  auto b2 = generate_batch(m, near_end, opt);
  ASSERT_TRUE(b2.is_ok()) << b2.status().message();
  for (size_t i = 0; i < near_end.size(); ++i) {
    auto alone = generate(m, near_end[i], opt);
    ASSERT_TRUE(alone.is_ok());
    EXPECT_EQ((*b2)[i], *alone) << "near-context prompt " << i;
  }
  EXPECT_EQ((*b2)[2].size(), 1u);  // a full context leaves room for one token
}

std::vector<Case> cases() {
  std::vector<Case> v;
  for (const char* arch : {"llama", "gpt2", "gpt_neox", "gptj", "bloom", "opt"})
    for (const char* method : {"", "lora", "prompt_tuning", "prefix_tuning"}) v.push_back({arch, method});
  for (const char* local : {"local:mistral", "local:mistral_nowindow", "local:qwen2", "local:opt_postln",
                            "local:bloom_6heads", "local:gpt_neox_seq", "local:gptj_full_rotary"})
    v.push_back({local, ""});
  return v;
}

INSTANTIATE_TEST_SUITE_P(Archs, BatchedGeneration, ::testing::ValuesIn(cases()), [](const auto& info) {
  std::string n = info.param.arch;
  if (n.rfind("local:", 0) == 0) n = n.substr(6);
  return n + (info.param.adapter.empty() ? "" : "_" + info.param.adapter);
});

}  // namespace
}  // namespace peft
