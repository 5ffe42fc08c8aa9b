// adapter_config.json written for the oldest client that matters (PEFT 0.6.2): no use_rslora
// (rsLoRA as alpha·√r), all-linear expanded, layer restrictions PEFT cannot combine with the
// target form written as an exact-path regex — and each config, read back, selects the same
// modules with the same scaling. The real clients load these in tests/interop/clients/.
#include <gtest/gtest.h>

#include <cmath>

#include "adapters/registry.h"
#include "adapters/targets.h"
#include "test_paths.h"

namespace peft {
namespace {

template <typename T>
T ok(Result<T> r) {
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return std::move(r).value();
}

std::unique_ptr<Adapter> make(const Model& m, const std::string& method, const Json& config) {
  return ok(find_method(method)->create(m, config, "test config", 1));
}

// The parameter names (one per adapted module and tensor) an adapter holds.
std::vector<std::string> names(const Adapter& a) {
  std::vector<std::string> out;
  for (const Param& p : a.params().all()) out.push_back(p.name);
  return out;
}

struct Row {
  const char* arch;
  const char* method;
  const char* config;  // what the user asked for
};

class PeftConfigCompat : public ::testing::TestWithParam<Row> {};

TEST_P(PeftConfigCompat, WrittenConfigSelectsTheSameModulesInEveryPeft) {
  const Row& row = GetParam();
  auto model = ok(load_model(test::fixture_path(std::string(row.arch) + "/model")));
  auto asked = make(*model, row.method, Json::parse(row.config));
  const Json written = asked->config_json();
  EXPECT_FALSE(written.contains("use_rslora")) << written.dump();
  if (written.contains("target_modules") && written["target_modules"].is_string()) {
    EXPECT_NE(written["target_modules"].get<std::string>(), "all-linear");
    EXPECT_TRUE(!written.contains("layers_to_transform") || written["layers_to_transform"].is_null())
        << "PEFT rejects a string target_modules with layers_to_transform: " << written.dump();
  }
  if (std::string(row.method) == "ia3") {
    EXPECT_FALSE(written.contains("layers_to_transform"));
  }
  auto reread = make(*model, row.method, written);
  EXPECT_EQ(names(*reread), names(*asked)) << written.dump();
  if (std::string(row.method) == "lora") {
    const Json cfg = Json::parse(row.config);
    const double r = cfg.value("r", 8), alpha = cfg.value("lora_alpha", 8.0);
    const double want = cfg.value("use_rslora", false) ? alpha / std::sqrt(r) : alpha / r;
    EXPECT_NEAR(written["lora_alpha"].get<double>() / written["r"].get<double>(), want, 1e-12);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rows, PeftConfigCompat,
    ::testing::Values(Row{"llama", "lora", R"({"r": 4, "lora_alpha": 8, "use_rslora": true})"},
                      Row{"llama", "lora", R"({"r": 4, "target_modules": "all-linear"})"},
                      Row{"llama", "lora", R"({"r": 4, "target_modules": "all-linear", "layers_to_transform": [1]})"},
                      Row{"gpt2", "lora", R"({"r": 4, "target_modules": ".*\\.c_attn", "layers_to_transform": 0})"},
                      Row{"gpt_neox", "lora",
                          R"({"r": 8, "lora_alpha": 16, "use_rslora": true, "target_modules": "all-linear"})"},
                      Row{"llama", "ia3", R"({"layers_to_transform": [0]})"},
                      Row{"gpt2", "ia3", R"({"target_modules": "all-linear", "feedforward_modules": ["mlp.c_proj"]})"},
                      Row{"llama", "bottleneck",
                          R"({"bottleneck_size": 8, "target_modules": ["down_proj"], "layers_to_transform": [1]})"}),
    [](const auto& info) {
      return std::string(info.param.arch) + "_" + info.param.method + "_" + std::to_string(info.index);
    });

}  // namespace
}  // namespace peft
