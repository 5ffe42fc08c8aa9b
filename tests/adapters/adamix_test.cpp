// AdaMix (mixture of LoRA experts): PyTorch reference (routed pass, averaged module,
// consistency loss and every expert gradient), the consistency kernel against finite
// differences, routing, merge / plain-LoRA export, bad configs and `peft train --method adamix`.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "adapters/adamix/adamix.h"
#include "adapters/adamix/consistency_step.h"
#include "adapters/adapter_fixture_util.h"
#include "adapters/adapter_io.h"
#include "adapters/registry.h"
#include "cli/cli_runner.h"
#include "cli/stories_suite.h"
#include "kernels/consistency_kl.h"
#include "model/decoder.h"
#include "model/model.h"

namespace peft {
namespace {

std::string adamix_fixture(const std::string& rel) {
  return std::string(PEFT_SOURCE_DIR) + "/tests/fixtures/adamix/" + rel;
}

struct Fixture {
  std::unique_ptr<Model> model;
  std::unique_ptr<Adapter> adapter;
  SafetensorsFile io;
  std::vector<int32_t> ids, labels;
  int64_t B = 0, T = 0, V = 0;
  uint64_t seed1 = 0, seed2 = 0;
};

Fixture load_fixture() {
  Fixture f;
  auto m = load_model(test::fixture_path("llama/model"));
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  f.model = std::move(*m);
  auto a = load_adapter(*f.model, adamix_fixture("adapter"));
  EXPECT_TRUE(a.is_ok()) << a.status().message();
  f.adapter = std::move(*a);
  auto io = SafetensorsFile::open(adamix_fixture("io.safetensors"));
  EXPECT_TRUE(io.is_ok()) << io.status().message();
  f.io = std::move(*io);
  const Tensor* ids = f.io.find("input_ids");
  const Tensor* labels = f.io.find("labels");
  f.B = ids->dim(0);
  f.T = ids->dim(1);
  for (int64_t i = 0; i < ids->numel(); ++i) {
    f.ids.push_back(int32_t(ids->i64()[i]));
    f.labels.push_back(int32_t(labels->i64()[i]));
  }
  f.seed1 = uint64_t(f.io.find("routing_seeds")->i64()[0]);
  f.seed2 = uint64_t(f.io.find("routing_seeds")->i64()[1]);
  f.V = f.model->config.n_vocab;
  f.adapter->reserve(f.B * f.T);
  return f;
}

std::vector<float> logits_of(Decoder& dec, const Fixture& f) {
  std::vector<float> out(size_t(f.B * dec.seq_len() * f.V));
  dec.logits(out.data());
  return out;
}

TEST(Adamix, RoutingHashMatchesTheReference) {
  // The expert picks the Python reference printed for its two seeds (module, side) → expert.
  const int64_t want1[4][2] = {{0, 0}, {1, 0}, {0, 0}, {1, 2}};
  const int64_t want2[4][2] = {{0, 2}, {1, 2}, {2, 2}, {1, 0}};
  for (uint64_t m = 0; m < 4; ++m)
    for (uint64_t side = 0; side < 2; ++side) {
      EXPECT_EQ(AdamixAdapter::route(12345, m, side, 3), want1[m][side]);
      EXPECT_EQ(AdamixAdapter::route(987654321, m, side, 3), want2[m][side]);
    }
  // Roughly uniform over seeds; a single copy always routes to 0.
  std::vector<int> hits(4, 0);
  for (uint64_t s = 0; s < 4000; ++s) ++hits[size_t(AdamixAdapter::route(s * 7919 + 1, 5, 0, 4))];
  for (int h : hits) EXPECT_NEAR(h, 1000, 150);
  EXPECT_EQ(AdamixAdapter::route(99, 3, 1, 1), 0);
}

TEST(Adamix, MatchesPyTorchReference) {
  Fixture f = load_fixture();
  ASSERT_TRUE(f.adapter);
  EXPECT_EQ(f.adapter->method(), "adamix");
  const double lambda = f.adapter->consistency_weight();
  EXPECT_NEAR(lambda, *f.io.find("lambda")->f32(), 1e-7);
  const int64_t N = f.B * f.T;

  // One routed pass: logits and CE.
  Decoder dec1(*f.model, f.B, f.T, f.adapter.get()), dec2(*f.model, f.B, f.T, f.adapter.get());
  const AdapterRunMode mode1{true, 0, f.seed1, 0}, mode2{true, 0, f.seed2, 1};
  f.adapter->set_mode(mode1);
  const float ce = dec1.forward(f.ids.data(), f.labels.data(), f.B, f.T);
  EXPECT_NEAR(ce, *f.io.find("loss_routed")->f32(), 1e-4);
  std::vector<float> l1 = logits_of(dec1, f);
  const double err1 = test::max_abs_diff(l1.data(), f.io.find("logits_routed")->f32(), N * f.V);
  EXPECT_LE(err1, 1e-4);
  RecordProperty("routed_logits_max_abs_err", std::to_string(err1));
  f.adapter->set_mode(mode2);
  dec2.forward(f.ids.data(), nullptr, f.B, f.T);
  std::vector<float> l2 = logits_of(dec2, f);
  EXPECT_LE(test::max_abs_diff(l2.data(), f.io.find("logits_routed2")->f32(), N * f.V), 1e-4);

  // The full consistency step: loss terms and the gradient of every expert.
  f.adapter->params().zero_grads();
  std::vector<float> b1, b2;
  ConsistencyStep cs = consistency_step(dec1, dec2, *f.adapter, mode1, mode2, f.ids.data(), f.labels.data(), f.B, f.T,
                                        f.V, lambda, b1, b2);
  EXPECT_NEAR(cs.ce, *f.io.find("loss_routed")->f32(), 1e-4);
  EXPECT_NEAR(cs.consistency, *f.io.find("consistency")->f32(), 1e-4);
  EXPECT_NEAR(cs.ce + lambda * cs.consistency, *f.io.find("loss_total")->f32(), 2e-4);
  EXPECT_EQ(cs.loss_tokens, f.B * (f.T - 1) - 2);  // two labels are -100
  int with_grad = 0;
  for (const Param& p : f.adapter->params().all()) {
    const Tensor* ref = f.io.find("grad." + p.name);
    ASSERT_NE(ref, nullptr) << p.name;
    double peak = 0;
    for (int64_t i = 0; i < ref->numel(); ++i) peak = std::fmax(peak, std::fabs(ref->f32()[i]));
    if (peak == 0) {  // an expert neither pass routed to gets no gradient
      for (int64_t i = 0; i < ref->numel(); ++i) ASSERT_EQ(p.grad.f32()[i], 0.f) << p.name;
      continue;
    }
    ++with_grad;
    test::expect_close_rel(p.grad.f32(), *ref, 1e-3, "grad." + p.name);
  }
  EXPECT_GE(with_grad, 8);

  // Inference: the averaged module.
  f.adapter->set_mode(AdapterRunMode{});
  Decoder eval(*f.model, f.B, f.T, f.adapter.get());
  eval.forward(f.ids.data(), nullptr, f.B, f.T);
  std::vector<float> avg = logits_of(eval, f);
  const double err_avg = test::max_abs_diff(avg.data(), f.io.find("logits_avg")->f32(), N * f.V);
  EXPECT_LE(err_avg, 1e-4);
  RecordProperty("averaged_logits_max_abs_err", std::to_string(err_avg));

  // The averaged module as a plain PEFT LoRA adapter: same logits, saves and loads as LORA.
  auto* mix = dynamic_cast<AdamixAdapter*>(f.adapter.get());
  ASSERT_NE(mix, nullptr);
  auto lora = mix->to_plain_lora();
  ASSERT_TRUE(lora.is_ok()) << lora.status().message();
  test::TempDir dir;
  ASSERT_TRUE(save_adapter(**lora, dir / "lora", "base").is_ok());
  auto reloaded = load_adapter(*f.model, dir / "lora");
  ASSERT_TRUE(reloaded.is_ok()) << reloaded.status().message();
  EXPECT_EQ((*reloaded)->config_json()["peft_type"], "LORA");
  Decoder plain(*f.model, f.B, f.T, reloaded->get());
  plain.forward(f.ids.data(), nullptr, f.B, f.T);
  std::vector<float> lp = logits_of(plain, f);
  EXPECT_LE(test::max_abs_diff(lp.data(), f.io.find("logits_avg")->f32(), N * f.V), 1e-4);

  // Merging folds the averaged module.
  ASSERT_TRUE(f.adapter->merge_into(*f.model).is_ok());
  Decoder merged(*f.model, f.B, f.T);
  merged.forward(f.ids.data(), nullptr, f.B, f.T);
  std::vector<float> lm = logits_of(merged, f);
  EXPECT_LE(test::max_abs_diff(lm.data(), f.io.find("logits_avg")->f32(), N * f.V), 1e-4);
}

TEST(Adamix, AveragedModuleFollowsParameterUpdates) {
  // No stale cache: changing an expert changes the inference output at once.
  Fixture f = load_fixture();
  f.adapter->set_mode(AdapterRunMode{});
  Decoder dec(*f.model, f.B, f.T, f.adapter.get());
  dec.forward(f.ids.data(), nullptr, f.B, f.T);
  std::vector<float> before = logits_of(dec, f);
  f.adapter->params()[1].value.f32()[0] += 0.5f;
  dec.forward(f.ids.data(), nullptr, f.B, f.T);
  std::vector<float> after = logits_of(dec, f);
  EXPECT_GT(test::max_abs_diff(before.data(), after.data(), int64_t(before.size())), 1e-5);
}

TEST(Adamix, EvalModeGradientIsSpreadOverCopies) {
  // d/dA_i of a loss through Ā = mean A_i is (1/E) dL/dĀ: finite differences on one element.
  Fixture f = load_fixture();
  f.adapter->set_mode(AdapterRunMode{});
  Decoder dec(*f.model, f.B, f.T, f.adapter.get());
  f.adapter->params().zero_grads();
  dec.forward(f.ids.data(), f.labels.data(), f.B, f.T, true);
  dec.backward();
  for (size_t pi : {size_t(0), size_t(4)}) {
    Param& p = f.adapter->params()[pi];
    const int64_t i = 3;
    const float g = p.grad.f32()[i], old = p.value.f32()[i], h = 1e-2f;
    p.value.f32()[i] = old + h;
    const double lp = dec.forward(f.ids.data(), f.labels.data(), f.B, f.T);
    p.value.f32()[i] = old - h;
    const double lm = dec.forward(f.ids.data(), f.labels.data(), f.B, f.T);
    p.value.f32()[i] = old;
    EXPECT_NEAR(g, (lp - lm) / (2 * h), 2e-3 + 2e-2 * std::fabs(g)) << p.name;
  }
}

TEST(ConsistencyKl, MatchesFiniteDifferences) {
  const int64_t N = 4, V = 7;
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.f, 1.5f);
  std::vector<float> l1(size_t(N * V)), l2(size_t(N * V));
  for (float& v : l1) v = nd(rng);
  for (float& v : l2) v = nd(rng);
  const int32_t targets[N] = {1, -100, 0, 5};
  std::vector<float> d1(l1.size()), d2(l2.size());
  const float scale = 0.7f;
  const double loss = consistency_kl_forward_backward(d1.data(), d2.data(), l1.data(), l2.data(), targets, N, V, scale);
  EXPECT_GT(loss, 0);
  // The stop-gradient: ∂/∂l1 only through KL(p1‖·) with p2 fixed: that half equals the
  // derivative of ½·KL(p1‖p2)/count w.r.t. l1.
  auto half_kl = [&](const std::vector<float>& a, const std::vector<float>& b) {
    double total = 0;
    int count = 0;
    for (int64_t n = 0; n < N; ++n) {
      if (targets[n] < 0) continue;
      ++count;
      double ma = -1e30, mb = -1e30, sa = 0, sb = 0;
      for (int64_t v = 0; v < V; ++v)
        ma = std::fmax(ma, a[size_t(n * V + v)]), mb = std::fmax(mb, b[size_t(n * V + v)]);
      for (int64_t v = 0; v < V; ++v)
        sa += std::exp(a[size_t(n * V + v)] - ma), sb += std::exp(b[size_t(n * V + v)] - mb);
      for (int64_t v = 0; v < V; ++v) {
        const double la = a[size_t(n * V + v)] - ma - std::log(sa), lb = b[size_t(n * V + v)] - mb - std::log(sb);
        total += std::exp(la) * (la - lb);
      }
    }
    return 0.5 * total / count;
  };
  EXPECT_NEAR(loss, half_kl(l1, l2) + half_kl(l2, l1), 1e-6);
  for (int64_t i = 0; i < N * V; ++i) {
    const double h = 1e-3;
    std::vector<float> a = l1;
    a[size_t(i)] += float(h);
    const double up = half_kl(a, l2);
    a[size_t(i)] -= float(2 * h);
    const double down = half_kl(a, l2);
    EXPECT_NEAR(d1[size_t(i)], scale * (up - down) / (2 * h), 2e-4) << "d1 " << i;
    std::vector<float> b = l2;
    b[size_t(i)] += float(h);
    const double up2 = half_kl(b, l1);
    b[size_t(i)] -= float(2 * h);
    const double down2 = half_kl(b, l1);
    EXPECT_NEAR(d2[size_t(i)], scale * (up2 - down2) / (2 * h), 2e-4) << "d2 " << i;
  }
  // In place (gradients over the logits) gives the same.
  std::vector<float> a = l1, b = l2;
  consistency_kl_forward_backward(a.data(), b.data(), a.data(), b.data(), targets, N, V, scale);
  EXPECT_EQ(a, d1);
  EXPECT_EQ(b, d2);
}

TEST(Adamix, ExpertsStartIdenticalAndOnDiskKeys) {
  auto m = load_model(test::fixture_path("llama/model"));
  ASSERT_TRUE(m.is_ok());
  const MethodDef* def = find_method("adamix");
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(find_method("ADAMIX"), def);
  auto a = def->create(**m, Json{{"num_experts", 3}, {"r", 2}}, "test", 11);
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  const ParamStore& ps = (*a)->params();
  // Default share_up: 3 A copies and one B per module.
  const std::string prefix = "base_model.model.model.layers.0.self_attn.q_proj";
  for (const char* k : {".lora_A.0.weight", ".lora_A.1.weight", ".lora_A.2.weight", ".lora_B.0.weight"})
    EXPECT_NE(ps.find(prefix + k), nullptr) << k;
  EXPECT_EQ(ps.find(prefix + ".lora_B.1.weight"), nullptr);
  const Param* a0 = ps.find(prefix + ".lora_A.0.weight");
  const Param* a2 = ps.find(prefix + ".lora_A.2.weight");
  EXPECT_EQ(0, std::memcmp(a0->value.data, a2->value.data, a0->value.nbytes()));
  Json cfg = (*a)->config_json();
  EXPECT_EQ(cfg["peft_type"], "ADAMIX");
  for (const char* k : {"num_experts", "share_up", "share_down", "base", "r", "lora_alpha", "lora_dropout",
                        "target_modules", "consistency_weight"})
    EXPECT_TRUE(cfg.contains(k)) << k;
  EXPECT_DOUBLE_EQ((*a)->consistency_weight(), 1.0);
}

TEST(Adamix, BadConfigsAreClearErrors) {
  auto m = load_model(test::fixture_path("llama/model"));
  ASSERT_TRUE(m.is_ok());
  const MethodDef* def = find_method("adamix");
  struct Case {
    Json config;
    const char* message;
  };
  const Case cases[] = {
      {Json{{"num_experts", 0}}, "num_experts must be at least 1"},
      {Json{{"share_up", true}, {"share_down", true}}, "plain LoRA"},
      {Json{{"base", "prefix"}}, "base 'prefix' is unknown"},
      {Json{{"bottleneck_size", 32}}, "bottleneck_size does not apply to base 'lora'"},
      {Json{{"r", 0}}, "r must be positive"},
      {Json{{"consistency_weight", -1}}, "consistency_weight must be >= 0"},
      {Json{{"target_modules", Json::array({"nope"})}}, "nope"},
  };
  for (const Case& c : cases) {
    auto a = def->create(**m, c.config, "cfg.json", 1);
    ASSERT_FALSE(a.is_ok()) << c.config.dump();
    EXPECT_NE(a.status().message().find(c.message), std::string::npos) << a.status().message();
    if (std::string(c.message) != "nope") {  // target errors name the method's target_modules
      EXPECT_NE(a.status().message().find("cfg.json"), std::string::npos) << a.status().message();
    }
  }
}

class AdamixCli : public test::StoriesSuite {};

TEST_F(AdamixCli, TrainsFromTheCommandLine) {
  const std::string data = write_say_ok_data("data.jsonl", 12), model = model_;
  test::TempDir dir;
  const std::string out = dir / "run";
  auto r = test::run_peft("train --model " + model + " --data " + data + " --output " + out +
                          " --method adamix --adamix-experts 3 --adamix-share-up false --adamix-consistency 0.5"
                          " --adamix-r 2 --batch-size 4 --micro-batch-size 2 --max-steps 3 --val-set-size 2"
                          " --warmup-steps 0 --learning-rate 1e-2 --eval-steps 3 --save-steps 3");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto config = nlohmann::json::parse(test::read_all(out + "/adapter_config.json"));
  EXPECT_EQ(config["peft_type"], "ADAMIX");
  EXPECT_EQ(config["num_experts"], 3);
  EXPECT_EQ(config["share_up"], false);
  EXPECT_DOUBLE_EQ(config["consistency_weight"].get<double>(), 0.5);
  std::ifstream metrics(out + "/metrics.jsonl");
  int lines = 0;
  for (std::string line; std::getline(metrics, line); ++lines) {
    auto j = nlohmann::json::parse(line);
    ASSERT_TRUE(j.contains("consistency")) << line;
    EXPECT_TRUE(std::isfinite(j["consistency"].get<double>()));
    EXPECT_GE(j["consistency"].get<double>(), 0.0);
  }
  EXPECT_EQ(lines, 3);
  auto rb = test::run_peft(
      "train --model " + model + " --data " + data + " --output " + out +
      "2 --method adamix --adamix-share-up true --adamix-share-down true --max-steps 1 --val-set-size 0");
  EXPECT_NE(rb.exit_code, 0);
  EXPECT_NE(rb.err.find("plain LoRA"), std::string::npos) << rb.err;
}

}  // namespace
}  // namespace peft
