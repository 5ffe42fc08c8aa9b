// Continuous batching with mixed adapters: every request of a batch that mixes all methods
// and the bare base, joining at different steps, gets exactly the tokens `peft generate`
// gives it alone (greedy and seeded sampling); cancelled requests free their rows.
#include "serve/batch_engine.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "adapters/registry.h"
#include "model/model.h"
#include "test_paths.h"

namespace peft {
namespace {

struct MethodRow {
  const char* method;
  Json config;
};

// One adapter of every registered method with its default configuration (a new method is
// covered without a row here), plus configurations whose hooks differ (parallel adapters,
// AdaMix over adapters, all-linear LoRA); parameters moved off their initial values so that
// each changes the model's output.
std::vector<std::unique_ptr<Adapter>> every_method(const Model& model) {
  std::vector<MethodRow> rows;
  for (const MethodDef* def : all_methods()) rows.push_back({def->name, Json::object()});
  rows.push_back({"lora", Json{{"r", 4}, {"lora_alpha", 8}, {"target_modules", "all-linear"}}});
  rows.push_back({"bottleneck", Json{{"bottleneck_size", 4}, {"use_parallel_adapter", true}}});
  rows.push_back({"adamix", Json{{"base", "bottleneck"}, {"bottleneck_size", 4}, {"num_experts", 2}}});
  std::vector<std::unique_ptr<Adapter>> out;
  std::mt19937 gen(5);
  std::normal_distribution<float> noise(0.f, 0.2f);
  for (const MethodRow& row : rows) {
    auto a = find_method(row.method)->create(model, row.config, row.method, 3);
    EXPECT_TRUE(a.is_ok()) << row.method << ": " << a.status().message();
    if (!a.is_ok()) continue;
    for (Param& p : (*a)->params().all())
      for (int64_t i = 0; i < p.value.numel(); ++i) p.value.f32()[i] += noise(gen);
    out.push_back(std::move(*a));
  }
  return out;
}

std::vector<int32_t> random_prompt(int64_t n, int64_t vocab, std::mt19937& gen) {
  std::uniform_int_distribution<int32_t> id(3, int32_t(vocab - 1));
  std::vector<int32_t> p(static_cast<size_t>(n));
  for (auto& x : p) x = id(gen);
  return p;
}

struct Outcome {
  std::vector<int32_t> tokens;
  int finished = 0;
  FinishReason reason = FinishReason::Stop;
};

EngineRequest request_for(const std::vector<int32_t>& prompt, const GenerateOptions& opt, Outcome& o) {
  EngineRequest r;
  r.prompt = prompt;
  r.options = opt;
  r.on_token = [&o](int32_t id, const float*, int64_t) {
    o.tokens.push_back(id);
    return true;
  };
  r.on_finish = [&o](FinishReason why) {
    ++o.finished;
    o.reason = why;
  };
  return r;
}

class MixedBatch : public ::testing::TestWithParam<std::string> {};

TEST_P(MixedBatch, EveryRequestGetsWhatItGetsAlone) {
  auto loaded = load_model(test::fixture_dir(GetParam()) + "/model");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  const Model& m = **loaded;
  const auto adapters = every_method(m);
  std::vector<SiteHooks*> hooks = {nullptr};
  for (const auto& a : adapters) hooks.push_back(a.get());

  // Two requests per adapter (one greedy, one sampled), prompts of different lengths, ids of
  // the fixture's short context: rows finish at different steps, and later ones join.
  std::mt19937 gen(9);
  struct Job {
    std::vector<int32_t> prompt;
    GenerateOptions opt;
  };
  std::vector<Job> jobs;
  for (size_t h = 0; h < hooks.size(); ++h)
    for (int sampled = 0; sampled < 2; ++sampled) {
      Job j;
      j.prompt = random_prompt(1 + int64_t((h * 5 + size_t(sampled) * 3) % 9), m.config.n_vocab, gen);
      j.opt.max_new_tokens = 3 + int64_t((h + size_t(sampled)) % 6);
      j.opt.hooks = hooks[h];
      if (sampled) j.opt.sampling = SamplingOptions{0.9f, 20, 0.95f, 17 + h};
      jobs.push_back(j);
    }
  std::vector<std::vector<int32_t>> alone;
  for (const Job& j : jobs) {
    auto out = generate(m, j.prompt, j.opt);
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    alone.push_back(*out);
  }

  BatchEngine engine(m, /*max_batch=*/6, /*max_prompt=*/32, /*prefill_budget=*/12);
  std::vector<Outcome> got(jobs.size());
  size_t next = 0;
  int64_t steps = 0, mixed_steps = 0;
  while (next < jobs.size() || engine.running() > 0 || engine.waiting() > 0) {
    // Three new requests every other step: they join a batch already decoding.
    for (int k = 0; k < 3 && next < jobs.size() && steps % 2 == 0; ++k, ++next) {
      EngineRequest r = request_for(jobs[next].prompt, jobs[next].opt, got[next]);
      ASSERT_TRUE(engine.check(r).is_ok()) << engine.check(r).message();
      engine.add(std::move(r));
    }
    const EngineStats st = engine.step();
    mixed_steps += st.decode_segments >= 2;
    ASSERT_LT(++steps, 1000);
  }
  EXPECT_GE(mixed_steps, 3) << "decode steps that mixed adapters";
  for (size_t i = 0; i < jobs.size(); ++i) {
    EXPECT_EQ(got[i].tokens, alone[i]) << "request " << i << " (adapter " << i / 2 << ")";
    EXPECT_EQ(got[i].finished, 1) << "request " << i;
  }
}

TEST_P(MixedBatch, CancelledRequestsLeaveAndFreeTheirRows) {
  auto loaded = load_model(test::fixture_dir(GetParam()) + "/model");
  ASSERT_TRUE(loaded.is_ok());
  const Model& m = **loaded;
  std::mt19937 gen(3);
  GenerateOptions opt;
  opt.max_new_tokens = 6;
  opt.stop_at_eos = false;
  BatchEngine engine(m, 2, 16, 16);
  Outcome a, b, c;
  bool drop_b = false;
  EngineRequest ra = request_for(random_prompt(4, m.config.n_vocab, gen), opt, a);
  EngineRequest rb = request_for(random_prompt(5, m.config.n_vocab, gen), opt, b);
  rb.cancelled = [&drop_b] { return drop_b; };
  EngineRequest rc = request_for(random_prompt(3, m.config.n_vocab, gen), opt, c);
  // The third request's client stops reading after two tokens.
  rc.on_token = [&c](int32_t id, const float*, int64_t) {
    c.tokens.push_back(id);
    return c.tokens.size() < 2;
  };
  const auto want_a = *generate(m, ra.prompt, opt);
  engine.add(std::move(ra));
  engine.add(std::move(rb));
  engine.add(std::move(rc));
  engine.step();
  EXPECT_EQ(engine.running(), 2);
  EXPECT_EQ(engine.waiting(), 1);  // the batch is full
  drop_b = true;
  engine.step();  // b leaves before the step; c takes its row
  EXPECT_EQ(b.finished, 1);
  EXPECT_EQ(b.reason, FinishReason::Cancelled);
  for (int i = 0; i < 20 && (engine.running() || engine.waiting()); ++i) engine.step();
  EXPECT_EQ(engine.running() + engine.waiting(), 0);
  EXPECT_EQ(c.tokens.size(), 2u);
  EXPECT_EQ(c.reason, FinishReason::Cancelled);
  EXPECT_EQ(a.tokens, want_a);
  EXPECT_EQ(a.reason, FinishReason::Length);
}

TEST(BatchEngine, RefusesWhatItCannotRun) {
  auto loaded = load_model(test::fixture_dir("llama") + "/model");
  ASSERT_TRUE(loaded.is_ok());
  const Model& m = **loaded;
  BatchEngine engine(m, 2, 8, 8);
  Outcome o;
  GenerateOptions opt;
  EXPECT_FALSE(engine.check(request_for({}, opt, o)).is_ok());
  EXPECT_FALSE(engine.check(request_for(std::vector<int32_t>(9, 5), opt, o)).is_ok());  // over max_prompt
  EXPECT_FALSE(engine.check(request_for({5, int32_t(m.config.n_vocab)}, opt, o)).is_ok());
  EXPECT_TRUE(engine.check(request_for({5, 6}, opt, o)).is_ok());
}

INSTANTIATE_TEST_SUITE_P(Archs, MixedBatch, ::testing::Values("llama", "gpt2", "bloom", "gpt_neox"));

}  // namespace
}  // namespace peft
