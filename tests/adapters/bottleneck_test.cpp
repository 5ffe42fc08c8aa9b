// Bottleneck adapters: analytic gradients (parameters and inputs) against central finite
// differences for every adapter type × activation, learned scaling and dropout; config errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "adapters/bottleneck/bottleneck.h"
#include "adapters/registry.h"
#include "core/rng.h"
#include "model/decoder.h"
#include "model/model.h"
#include "test_paths.h"

namespace peft {
namespace {

struct GradCase {
  std::string name, arch;
  Json config;
};

std::vector<GradCase> grad_cases() {
  std::vector<GradCase> out;
  struct Kind {
    const char* name;
    const char* arch;
    Json targets;
    bool parallel;
  };
  const std::vector<Kind> kinds = {
      {"mh", "llama", Json::array({"gate_proj", "up_proj"}), false},
      {"output", "llama", Json::array({"o_proj", "down_proj"}), false},
      {"parallel", "llama", Json::array({"q_proj", "k_proj", "v_proj", "down_proj"}), true},
      {"mh", "gpt2", Json::array({"c_fc"}), false},
      {"output", "gpt2", Json::array({"attn.c_proj", "mlp.c_proj"}), false},
      {"parallel", "gpt2", Json::array({"c_attn", "c_fc"}), true},
  };
  for (const Kind& k : kinds) {
    Json base{{"bottleneck_size", 4}, {"target_modules", k.targets}, {"use_parallel_adapter", k.parallel}};
    const std::string stem = std::string(k.arch) + "_" + k.name;
    const bool llama = std::string(k.arch) == "llama";
    for (const char* act : {"tanh", "relu", "gelu", "silu", "identity"}) {
      if (!llama && std::string(act) != "tanh") continue;  // activations: once, on llama
      Json c = base;
      c["non_linearity"] = act;
      c["scaling"] = 0.7;
      out.push_back({stem + "_" + act, k.arch, c});
    }
    Json learned = base;
    learned["scaling"] = "learned";
    out.push_back({stem + "_learned", k.arch, learned});
    Json drop = base;
    drop["adapter_dropout"] = 0.3;
    drop["scaling"] = "learned";
    drop["non_linearity"] = "gelu";
    out.push_back({stem + "_dropout", k.arch, drop});
  }
  return out;
}

struct GradSetup {
  std::unique_ptr<Model> model;
  std::unique_ptr<Adapter> adapter;
  std::vector<int32_t> ids;
  int64_t B = 2, T = 7;
};

GradSetup make(const GradCase& c) {
  GradSetup s;
  auto m = load_model(test::fixture_path(c.arch + "/model"));
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  s.model = std::move(*m);
  auto a = find_method("bottleneck")->create(*s.model, c.config, c.name, 5);
  EXPECT_TRUE(a.is_ok()) << a.status().message();
  s.adapter = std::move(*a);
  // Larger weights than the fork's N(0, 0.02), so the adapters matter to the loss.
  Rng rng(17);
  for (Param& p : s.adapter->params().all()) {
    const bool scale = p.name.ends_with("adapter_scaling");
    for (int64_t i = 0; i < p.value.numel(); ++i) p.value.f32()[i] = scale ? 0.8f : 0.3f * rng.normal();
  }
  s.adapter->set_mode(AdapterRunMode{true, 11});  // dropout on (when configured), fixed mask
  s.adapter->reserve(s.B * s.T);
  for (int64_t i = 0; i < s.B * s.T; ++i) s.ids.push_back(int32_t((i * 37 + 11) % s.model->config.n_vocab));
  return s;
}

// Central difference of the loss along `dir` (max 1) against the analytic Σ dir · grad.
// The step keeps the loss change near 3e-3: large enough for float losses, small enough
// that curvature (steep input directions) does not bias the difference.
void expect_directional(const std::function<double(float)>& loss_at, double analytic, const std::string& what) {
  const float h = float(std::min(1e-3, 3e-3 / std::max(std::fabs(analytic), 1e-12)));
  const double numeric = (loss_at(h) - loss_at(-h)) / (2.0 * h);
  EXPECT_NEAR(analytic, numeric, 2e-2 * std::fabs(numeric) + 1e-4) << what;
}

class BottleneckGrad : public ::testing::TestWithParam<GradCase> {};

TEST_P(BottleneckGrad, ParametersMatchFiniteDifferences) {
  GradSetup s = make(GetParam());
  Decoder dec(*s.model, s.B, s.T, s.adapter.get());
  ParamStore& ps = s.adapter->params();
  ps.zero_grads();
  dec.forward(s.ids.data(), s.ids.data(), s.B, s.T, true);
  dec.backward();
  // One check per parameter kind, each along its own gradient (the best-conditioned direction).
  for (const char* kind : {"adapter_down", "adapter_up", "adapter_scaling"}) {
    std::vector<float> dir(size_t(ps.numel()), 0.f);
    for (const Param& p : ps.all())
      if (p.name.find(kind) != std::string::npos)
        for (int64_t i = 0; i < p.value.numel(); ++i) dir[size_t(p.value.f32() - ps.values() + i)] = p.grad.f32()[i];
    float peak = 0.f;
    for (float d : dir) peak = std::max(peak, std::fabs(d));
    if (peak == 0.f) {
      EXPECT_EQ(std::string(kind), "adapter_scaling") << "no gradient for " << kind;
      continue;
    }
    double analytic = 0;
    for (float& d : dir) {
      d /= peak;
      analytic += double(d) * double(d) * double(peak);
    }
    auto loss_at = [&](float h) {
      for (int64_t i = 0; i < ps.numel(); ++i) ps.values()[i] += h * dir[size_t(i)];
      const double l = dec.forward(s.ids.data(), s.ids.data(), s.B, s.T);
      for (int64_t i = 0; i < ps.numel(); ++i) ps.values()[i] -= h * dir[size_t(i)];
      return l;
    };
    expect_directional(loss_at, analytic, GetParam().name + " " + kind);
  }
}

TEST_P(BottleneckGrad, InputsMatchFiniteDifferences) {
  GradSetup s = make(GetParam());
  Model& m = *s.model;
  const int64_t V = m.config.n_vocab, C = m.config.embd_in(), N = s.B * s.T;
  OwnedTensor table = to_f32(m.tok_embd);  // private copies: a tied head must not move
  OwnedTensor head = to_f32(m.lm_head.w);
  m.tok_embd = table.view();
  m.lm_head.w = head.view();
  Decoder dec(m, s.B, s.T, s.adapter.get());
  dec.forward(s.ids.data(), s.ids.data(), s.B, s.T, true);
  dec.backward();
  std::vector<float> dir(size_t(V * C), 0.f);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < C; ++i) dir[size_t(s.ids[size_t(n)] * C + i)] += dec.d_embed()[n * C + i];
  float peak = 0.f;
  for (float d : dir) peak = std::max(peak, std::fabs(d));
  ASSERT_GT(peak, 0.f);
  double analytic = 0;
  for (float& d : dir) {
    d /= peak;
    analytic += double(d) * double(d) * double(peak);
  }
  auto loss_at = [&](float h) {
    for (int64_t i = 0; i < V * C; ++i) table.f32()[i] += h * dir[size_t(i)];
    const double l = dec.forward(s.ids.data(), s.ids.data(), s.B, s.T);
    for (int64_t i = 0; i < V * C; ++i) table.f32()[i] -= h * dir[size_t(i)];
    return l;
  };
  expect_directional(loss_at, analytic, GetParam().name + " inputs");
}

INSTANTIATE_TEST_SUITE_P(Cases, BottleneckGrad, ::testing::ValuesIn(grad_cases()),
                         [](const auto& info) { return info.param.name; });

// ---- configuration ----

std::unique_ptr<Model> llama() {
  auto m = load_model(test::fixture_path("llama/model"));
  EXPECT_TRUE(m.is_ok());
  return std::move(*m);
}

std::string create_error(const Model& m, const Json& config) {
  auto a = find_method("bottleneck")->create(m, config, "cfg.json", 1);
  return a.is_ok() ? "" : a.status().message();
}

TEST(BottleneckConfig, BadInputIsAClearError) {
  auto m = llama();
  auto has = [](const std::string& msg, const std::string& part) { return msg.find(part) != std::string::npos; };
  EXPECT_TRUE(has(create_error(*m, {{"non_linearity", "sigmoid"}}), "cfg.json: non_linearity 'sigmoid'"));
  EXPECT_TRUE(has(create_error(*m, {{"bottleneck_size", 0}}), "bottleneck_size must be positive"));
  EXPECT_TRUE(has(create_error(*m, {{"bottleneck_size", -3}}), "bottleneck_size must be positive"));
  EXPECT_TRUE(has(create_error(*m, {{"target_modules", {"c_fc"}}}), "'c_fc' does not exist"));
  EXPECT_TRUE(has(create_error(*m, {{"use_parallel_adapter", true}, {"use_adapterp", true}}),
                  "use_parallel_adapter and use_adapterp"));
  EXPECT_TRUE(has(create_error(*m, {{"target_modules", {"q_proj"}}}), "no series adapter type"));
  EXPECT_TRUE(has(create_error(*m, {{"scaling", "big"}}), "scaling must be a number or \"learned\""));
  EXPECT_TRUE(has(create_error(*m, {{"init_weights", "xavier"}}), "init_weights"));
  EXPECT_TRUE(has(create_error(*m, {{"adapter_dropout", 1.0}}), "adapter_dropout"));
  EXPECT_TRUE(has(create_error(*m, {{"preset", "lora"}}), "preset must be"));
  EXPECT_TRUE(has(create_error(*m, {{"preset", "houlsby"}, {"target_modules", {"o_proj"}}}), "preset"));
  EXPECT_TRUE(has(create_error(*m, {{"preset", "pfeiffer"}, {"use_parallel_adapter", true}}), "preset"));
  EXPECT_TRUE(has(create_error(*m, {{"bias", "all"}}), "bias"));

  auto a = find_method("bottleneck")->create(*m, {{"bottleneck_size", 4}}, "cfg.json", 1);
  ASSERT_TRUE(a.is_ok());
  Status merged = (*a)->merge_into(*m);
  EXPECT_FALSE(merged.is_ok());
  EXPECT_TRUE(has(merged.message(), "bottleneck adapters cannot be merged")) << merged.message();
}

TEST(BottleneckConfig, DefaultsPresetsAndWrittenConfig) {
  auto m = llama();
  auto make = [&](const Json& c) {
    auto a = find_method("bottleneck")->create(*m, c, "cfg.json", 1);
    EXPECT_TRUE(a.is_ok()) << a.status().message();
    return std::move(*a);
  };
  auto names = [](const Adapter& a) {
    std::vector<std::string> out;
    for (const Param& p : a.params().all()) out.push_back(p.name);
    return out;
  };
  const std::string l0 = "base_model.model.model.layers.0.";
  // Series: the fork's llama table, shapes as on disk.
  auto series = make(Json{{"bottleneck_size", 16}});
  EXPECT_EQ(series->params().count(), 12u);  // 2 layers × {gate, up, down} × {down, up}
  const Param* gd = series->params().find(l0 + "mlp.gate_proj.adapter_down.weight");
  ASSERT_NE(gd, nullptr);
  EXPECT_EQ(gd->value.dims(), (std::vector<int64_t>{16, 64}));
  EXPECT_EQ(series->params().find(l0 + "mlp.gate_proj.adapter_up.weight")->value.dims(),
            (std::vector<int64_t>{64, 16}));
  Json j = series->config_json();
  EXPECT_EQ(j["peft_type"], "BOTTLENECK");
  EXPECT_EQ(j["target_modules"], Json({"gate_proj", "up_proj", "down_proj"}));
  EXPECT_EQ(j["scaling"], 1.0);
  EXPECT_TRUE(j["scaling"].is_number_float());
  EXPECT_EQ(j["init_weights"], "bert");
  // Parallel: q/k/v, up (out, b).
  auto par = make(Json{{"bottleneck_size", 8}, {"use_parallel_adapter", true}});
  EXPECT_EQ(par->params().find(l0 + "self_attn.k_proj.adapter_up.weight")->value.dims(), (std::vector<int64_t>{32, 8}));
  // Pfeiffer = AdapterP: the MLP output only; written as the fork's fields, no preset.
  auto pf = make(Json{{"bottleneck_size", 8}, {"preset", "pfeiffer"}});
  j = pf->config_json();
  EXPECT_EQ(j["target_modules"], Json({"down_proj"}));
  EXPECT_EQ(j["use_adapterp"], true);
  EXPECT_FALSE(j.contains("preset"));
  EXPECT_EQ(names(*make(Json{{"bottleneck_size", 8}, {"use_adapterp", true}})), names(*pf));
  // Houlsby: attention output and MLP output, both output adapters.
  auto hb = make(Json{{"bottleneck_size", 8}, {"preset", "houlsby"}});
  EXPECT_EQ(hb->config_json()["target_modules"], Json({"o_proj", "down_proj"}));
  EXPECT_NE(hb->params().find(l0 + "self_attn.o_proj.adapter_down.weight"), nullptr);
  // Learned scaling: one adapter_scaling (1) per module, starting at 1.
  auto ls = make(Json{{"bottleneck_size", 4}, {"scaling", "learned"}});
  const Param* sc = ls->params().find(l0 + "mlp.down_proj.adapter_scaling");
  ASSERT_NE(sc, nullptr);
  EXPECT_EQ(sc->value.dims(), (std::vector<int64_t>{1}));
  EXPECT_EQ(sc->value.f32()[0], 1.f);
  EXPECT_EQ(ls->config_json()["scaling"], "learned");
  // The --adapter-scaling flag passes a string.
  EXPECT_EQ(make(Json{{"scaling", "0.5"}})->config_json()["scaling"], 0.5);
  // mam_adapter: up is zero (identity at init); bert: N(0, 0.02).
  auto mam = make(Json{{"bottleneck_size", 4}, {"init_weights", "mam_adapter"}});
  const Param* up = mam->params().find(l0 + "mlp.up_proj.adapter_up.weight");
  for (int64_t i = 0; i < up->value.numel(); ++i) ASSERT_EQ(up->value.f32()[i], 0.f);
}

// Every architecture's default tables resolve and run (series, AdapterP, parallel, presets).
TEST(BottleneckConfig, DefaultTargetsOnEveryArchitecture) {
  const std::vector<Json> configs = {Json::object(), Json{{"use_adapterp", true}}, Json{{"use_parallel_adapter", true}},
                                     Json{{"preset", "houlsby"}}, Json{{"preset", "pfeiffer"}}};
  for (const char* arch : {"llama", "gpt2", "gpt_neox", "bloom", "gptj", "opt"}) {
    auto m = load_model(test::fixture_path(std::string(arch) + "/model"));
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    for (Json c : configs) {
      c["bottleneck_size"] = 4;
      auto a = find_method("bottleneck")->create(**m, c, arch, 1);
      ASSERT_TRUE(a.is_ok()) << arch << " " << c.dump() << ": " << a.status().message();
      std::vector<int32_t> ids = {1, 5, 9, 3, 7, 2};
      Decoder dec(**m, 1, 6, a->get());
      EXPECT_TRUE(std::isfinite(dec.forward(ids.data(), ids.data(), 1, 6))) << arch << " " << c.dump();
    }
  }
}

}  // namespace
}  // namespace peft
