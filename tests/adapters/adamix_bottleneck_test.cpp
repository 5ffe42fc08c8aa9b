// AdaMix over bottleneck adapters ("mixture of adapters"): PyTorch reference (both routed
// passes, the consistency step with every expert gradient, the averaged module), the plain
// bottleneck export, save/load, init and bad configs (the command line: adamix_bottleneck_cli_test.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "adapters/adamix/adamix_bottleneck.h"
#include "adapters/adamix/consistency_step.h"
#include "adapters/adapter_fixture_util.h"
#include "adapters/adapter_io.h"
#include "adapters/registry.h"
#include "cli/cli_runner.h"  // TempDir, read_all
#include "model/decoder.h"
#include "model/model.h"

namespace peft {
namespace {

// "" = o_proj + down_proj, 3 experts on both sides, gelu; "shared_up" = default targets, shared up, tanh.
std::string fixture_dir(const std::string& which) {
  return std::string(PEFT_SOURCE_DIR) + "/tests/fixtures/adamix_bottleneck/" + (which.empty() ? "" : which + "/");
}

struct Fixture {
  std::unique_ptr<Model> model;
  std::unique_ptr<Adapter> adapter;
  SafetensorsFile io;
  test::FixtureBatch batch;
  int64_t V = 0;
  uint64_t seed1 = 0, seed2 = 0;
};

Fixture load_fixture(const std::string& which) {
  Fixture f;
  auto m = load_model(test::fixture_path("llama/model"));
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  f.model = std::move(*m);
  auto a = load_adapter(*f.model, fixture_dir(which) + "adapter");
  EXPECT_TRUE(a.is_ok()) << a.status().message();
  f.adapter = std::move(*a);
  auto io = SafetensorsFile::open(fixture_dir(which) + "io.safetensors");
  EXPECT_TRUE(io.is_ok()) << io.status().message();
  f.io = std::move(*io);
  f.batch = test::read_fixture_batch(f.io);
  f.seed1 = uint64_t(f.io.find("routing_seeds")->i64()[0]);
  f.seed2 = uint64_t(f.io.find("routing_seeds")->i64()[1]);
  f.V = f.model->config.n_vocab;
  f.adapter->reserve(f.batch.B * f.batch.T);
  return f;
}

// Inference logits (B·T, V) of the model with `hooks`.
std::vector<float> eval_logits(Fixture& f, SiteHooks* hooks) {
  Decoder dec(*f.model, f.batch.B, f.batch.T, hooks);
  dec.forward(f.batch.ids.data(), nullptr, f.batch.B, f.batch.T);
  std::vector<float> out(static_cast<size_t>(f.batch.B * dec.seq_len() * f.V));
  dec.logits(out.data());
  return out;
}

class AdamixBottleneckReference : public ::testing::TestWithParam<std::string> {};

TEST_P(AdamixBottleneckReference, Matches) {
  Fixture f = load_fixture(GetParam());
  ASSERT_TRUE(f.adapter);
  EXPECT_EQ(f.adapter->method(), "adamix");
  auto* mix = dynamic_cast<AdamixBottleneckAdapter*>(f.adapter.get());
  ASSERT_NE(mix, nullptr);
  const double lambda = f.adapter->consistency_weight();
  EXPECT_NEAR(lambda, *f.io.find("lambda")->f32(), 1e-7);
  const int64_t B = f.batch.B, T = f.batch.T, N = B * T;
  const int32_t* ids = f.batch.ids.data();

  // The consistency step: pass 1 forward, pass 2 forward, pass 2 backward, pass 1 backward,
  // all through the one adapter (one activation set per pass).
  Decoder dec1(*f.model, B, T, f.adapter.get()), dec2(*f.model, B, T, f.adapter.get());
  const AdapterRunMode mode1{true, 0, f.seed1, 0}, mode2{true, 0, f.seed2, 1};
  f.adapter->params().zero_grads();
  std::vector<float> l1, l2;
  ConsistencyStep cs =
      consistency_step(dec1, dec2, *f.adapter, mode1, mode2, ids, f.batch.labels.data(), B, T, f.V, lambda, l1, l2);
  EXPECT_NEAR(cs.ce, *f.io.find("loss_routed")->f32(), 1e-4);
  EXPECT_NEAR(cs.consistency, *f.io.find("consistency")->f32(), 1e-4);
  EXPECT_NEAR(cs.ce + lambda * cs.consistency, *f.io.find("loss_total")->f32(), 2e-4);
  EXPECT_EQ(cs.loss_tokens, B * (T - 1) - 2);  // two labels are -100
  int with_grad = 0;
  double worst_rel = 0;
  for (const Param& p : f.adapter->params().all()) {
    const Tensor* ref = f.io.find("grad." + p.name);
    ASSERT_NE(ref, nullptr) << p.name;
    double peak = 0, err = 0;
    for (int64_t i = 0; i < ref->numel(); ++i) {
      peak = std::fmax(peak, std::fabs(ref->f32()[i]));
      err = std::fmax(err, std::fabs(double(p.grad.f32()[i]) - ref->f32()[i]));
    }
    if (peak == 0) {  // an expert neither pass routed to gets no gradient
      for (int64_t i = 0; i < ref->numel(); ++i) ASSERT_EQ(p.grad.f32()[i], 0.f) << p.name;
      continue;
    }
    ++with_grad;
    worst_rel = std::fmax(worst_rel, err / peak);
    test::expect_close_rel(p.grad.f32(), *ref, 1e-3, "grad." + p.name);
  }
  EXPECT_GE(with_grad, GetParam().empty() ? 10 : 3);
  RecordProperty("grad_max_rel_err", std::to_string(worst_rel));

  // Each routed pass on its own: logits and CE (the step above overwrote its logits buffers).
  f.adapter->set_mode(mode1);
  const float ce = dec1.forward(ids, f.batch.labels.data(), B, T);
  EXPECT_NEAR(ce, *f.io.find("loss_routed")->f32(), 1e-4);
  std::vector<float> r1(static_cast<size_t>(N * f.V)), r2(r1.size());
  dec1.logits(r1.data());
  const double err1 = test::max_abs_diff(r1.data(), f.io.find("logits_routed")->f32(), N * f.V);
  EXPECT_LE(err1, 1e-4);
  f.adapter->set_mode(mode2);
  dec2.forward(ids, nullptr, B, T);
  dec2.logits(r2.data());
  const double err2 = test::max_abs_diff(r2.data(), f.io.find("logits_routed2")->f32(), N * f.V);
  EXPECT_LE(err2, 1e-4);
  RecordProperty("routed_logits_max_abs_err", std::to_string(std::fmax(err1, err2)));

  // Inference: the averaged module.
  f.adapter->set_mode(AdapterRunMode{});
  std::vector<float> avg = eval_logits(f, f.adapter.get());
  const double err_avg = test::max_abs_diff(avg.data(), f.io.find("logits_avg")->f32(), N * f.V);
  EXPECT_LE(err_avg, 1e-4);
  RecordProperty("averaged_logits_max_abs_err", std::to_string(err_avg));

  // The exported plain bottleneck adapter serves the same logits and reloads as BOTTLENECK.
  auto plain = mix->to_plain_bottleneck();
  ASSERT_TRUE(plain.is_ok()) << plain.status().message();
  test::TempDir dir;
  ASSERT_TRUE(save_adapter(**plain, dir / "plain", "base").is_ok());
  auto reloaded = load_adapter(*f.model, dir / "plain");
  ASSERT_TRUE(reloaded.is_ok()) << reloaded.status().message();
  const Json pc = (*reloaded)->config_json();
  EXPECT_EQ(pc["peft_type"], "BOTTLENECK");
  EXPECT_EQ(pc["use_adapterp"], true);
  EXPECT_EQ(pc["bottleneck_size"], mix->config().bottleneck_size);
  EXPECT_EQ(pc["non_linearity"], mix->config().non_linearity);
  EXPECT_DOUBLE_EQ(pc["scaling"].get<double>(), 1.0);
  std::vector<float> lp = eval_logits(f, reloaded->get());
  EXPECT_LE(test::max_abs_diff(lp.data(), avg.data(), N * f.V), 1e-5);

  // Not mergeable: the error points at the export.
  Status merged = f.adapter->merge_into(*f.model);
  EXPECT_FALSE(merged.is_ok());
  EXPECT_NE(merged.message().find("peft export --format bottleneck"), std::string::npos) << merged.message();
}

INSTANTIATE_TEST_SUITE_P(Fixtures, AdamixBottleneckReference, ::testing::Values("", "shared_up"),
                         [](const auto& info) { return info.param.empty() ? std::string("mixed") : info.param; });

TEST(AdamixBottleneck, AveragedModuleIsTheMeanOfExpertsAndFollowsUpdates) {
  Fixture f = load_fixture("");
  auto* mix = dynamic_cast<AdamixBottleneckAdapter*>(f.adapter.get());
  ASSERT_NE(mix, nullptr);
  auto plain = mix->to_plain_bottleneck();
  ASSERT_TRUE(plain.is_ok()) << plain.status().message();
  const std::string prefix = "base_model.model.model.layers.1.mlp.down_proj";
  for (const char* side : {"adapter_down", "adapter_up"}) {
    const Param* avg = (*plain)->params().find(prefix + "." + side + ".weight");
    ASSERT_NE(avg, nullptr) << side;
    for (int64_t i = 0; i < avg->value.numel(); ++i) {
      double s = 0;
      for (int e = 0; e < 3; ++e)
        s += f.adapter->params().find(prefix + "." + side + "." + std::to_string(e) + ".weight")->value.f32()[i];
      ASSERT_NEAR(avg->value.f32()[i], s / 3, 1e-7) << side << " " << i;
    }
  }
  // No stale cache: changing one expert changes the inference output at once.
  f.adapter->set_mode(AdapterRunMode{});
  std::vector<float> before = eval_logits(f, f.adapter.get());
  f.adapter->params()[1].value.f32()[0] += 0.5f;
  std::vector<float> after = eval_logits(f, f.adapter.get());
  EXPECT_GT(test::max_abs_diff(before.data(), after.data(), int64_t(before.size())), 1e-5);
}

TEST(AdamixBottleneck, EvalModeGradientIsSpreadOverCopies) {
  // d/dD_i of a loss through D̄ = mean D_i is (1/E) dL/dD̄: finite differences on one element.
  Fixture f = load_fixture("");
  f.adapter->set_mode(AdapterRunMode{});
  Decoder dec(*f.model, f.batch.B, f.batch.T, f.adapter.get());
  f.adapter->params().zero_grads();
  dec.forward(f.batch.ids.data(), f.batch.labels.data(), f.batch.B, f.batch.T, true);
  dec.backward();
  for (size_t pi : {size_t(0), size_t(4), size_t(9)}) {  // l0.o_proj down 0, up 1; l0.down_proj down 0
    Param& p = f.adapter->params()[pi];
    const int64_t i = 5;
    const float g = p.grad.f32()[i], old = p.value.f32()[i], h = 1e-2f;
    p.value.f32()[i] = old + h;
    const double lp = dec.forward(f.batch.ids.data(), f.batch.labels.data(), f.batch.B, f.batch.T);
    p.value.f32()[i] = old - h;
    const double lm = dec.forward(f.batch.ids.data(), f.batch.labels.data(), f.batch.B, f.batch.T);
    p.value.f32()[i] = old;
    EXPECT_NEAR(g, (lp - lm) / (2 * h), 2e-3 + 2e-2 * std::fabs(g)) << p.name;
  }
}

TEST(AdamixBottleneck, SaveLoadRoundTrip) {
  Fixture f = load_fixture("");
  test::TempDir dir;
  ASSERT_TRUE(save_adapter(*f.adapter, dir / "a", "base").is_ok());
  auto config = nlohmann::json::parse(test::read_all(dir / "a/adapter_config.json"));
  EXPECT_EQ(config["peft_type"], "ADAMIX");
  EXPECT_EQ(config["base"], "bottleneck");
  EXPECT_EQ(config["bottleneck_size"], 8);
  EXPECT_EQ(config["non_linearity"], "gelu");
  EXPECT_EQ(config["share_up"], false);
  for (const char* lora_only : {"r", "lora_alpha", "lora_dropout"})
    EXPECT_FALSE(config.contains(lora_only)) << lora_only;
  auto loaded = load_adapter(*f.model, dir / "a");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  ASSERT_EQ((*loaded)->params().numel(), f.adapter->params().numel());
  EXPECT_EQ(0, std::memcmp((*loaded)->params().values(), f.adapter->params().values(),
                           static_cast<size_t>(f.adapter->params().numel()) * 4));
  EXPECT_EQ(eval_logits(f, f.adapter.get()), eval_logits(f, loaded->get()));
}

TEST(AdamixBottleneck, DefaultsInitAndOnDiskKeys) {
  auto m = load_model(test::fixture_path("llama/model"));
  ASSERT_TRUE(m.is_ok());
  const MethodDef* def = find_method("adamix");
  auto a = def->create(**m, Json{{"base", "bottleneck"}}, "test", 11);
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  const ParamStore& ps = (*a)->params();
  // Their NLU recipe: 4 down-projections, one shared up-projection, bottleneck 16, on the MLP output only.
  const std::string prefix = "base_model.model.model.layers.0.mlp.down_proj";
  for (int e = 0; e < 4; ++e) {
    const Param* d = ps.find(prefix + ".adapter_down." + std::to_string(e) + ".weight");
    ASSERT_NE(d, nullptr) << e;
    EXPECT_EQ(d->value.dims(), (std::vector<int64_t>{16, 64}));
    EXPECT_EQ(0, std::memcmp(d->value.data, ps.find(prefix + ".adapter_down.0.weight")->value.data, d->value.nbytes()));
  }
  const Param* up = ps.find(prefix + ".adapter_up.0.weight");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->value.dims(), (std::vector<int64_t>{64, 16}));
  EXPECT_EQ(ps.find(prefix + ".adapter_up.1.weight"), nullptr);
  EXPECT_EQ(ps.count(), size_t(2 * 5));  // two layers × (4 down + 1 up)
  for (const Param& p : ps.all()) {
    double peak = 0;
    for (int64_t i = 0; i < p.value.numel(); ++i) peak = std::fmax(peak, std::fabs(p.value.f32()[i]));
    if (p.name.find("adapter_up") != std::string::npos) {
      EXPECT_EQ(peak, 0.0) << p.name;
    } else {
      EXPECT_GT(peak, 0.0) << p.name;
    }
    if (p.name.find("adapter_down") != std::string::npos) {
      EXPECT_LE(peak, 1.0 / std::sqrt(64.0)) << p.name;
    }
  }
  const Json cfg = (*a)->config_json();
  EXPECT_EQ(cfg["non_linearity"], "gelu");
  EXPECT_EQ(cfg["bottleneck_size"], 16);
  EXPECT_EQ(cfg["num_experts"], 4);
  EXPECT_EQ(cfg["target_modules"], Json::array({"down_proj"}));
  // `peft train` writes the LoRA flags' defaults into every AdaMix config: tolerated here.
  auto with_lora_defaults =
      def->create(**m, Json{{"base", "bottleneck"}, {"r", 8}, {"lora_alpha", 16.0}, {"lora_dropout", 0.05}}, "test", 1);
  EXPECT_TRUE(with_lora_defaults.is_ok()) << with_lora_defaults.status().message();
}

TEST(AdamixBottleneck, BadConfigsAreClearErrors) {
  auto m = load_model(test::fixture_path("llama/model"));
  ASSERT_TRUE(m.is_ok());
  const MethodDef* def = find_method("adamix");
  struct Case {
    Json config;
    const char* message;
  };
  const Case cases[] = {
      {Json{{"base", "bottleneck"}, {"num_experts", 0}}, "num_experts must be at least 1"},
      {Json{{"base", "bottleneck"}, {"share_up", true}, {"share_down", true}}, "plain bottleneck adapter"},
      {Json{{"base", "series"}}, "base 'series' is unknown (supported: lora, bottleneck)"},
      {Json{{"base", "bottleneck"}, {"bottleneck_size", 0}}, "bottleneck_size must be positive"},
      {Json{{"base", "bottleneck"}, {"non_linearity", "swishy"}}, "non_linearity 'swishy' is not supported"},
      {Json{{"base", "bottleneck"}, {"adapter_dropout", 1.0}}, "adapter_dropout must be in [0, 1)"},
      {Json{{"base", "bottleneck"}, {"r", 4}}, "r does not apply to base 'bottleneck'"},
      {Json{{"base", "bottleneck"}, {"target_modules", Json::array({"q_proj"})}}, "is neither"},
  };
  for (const Case& c : cases) {
    auto a = def->create(**m, c.config, "cfg.json", 1);
    ASSERT_FALSE(a.is_ok()) << c.config.dump();
    EXPECT_NE(a.status().message().find(c.message), std::string::npos) << a.status().message();
  }
}

}  // namespace
}  // namespace peft
