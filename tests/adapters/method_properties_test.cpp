// Properties every method must keep, one row per method: identity at init, only adapter
// parameters move, gradient checkpointing changes no gradient, merged = unmerged, save → load
// is bit-exact, outputs stay finite. Decoders train their LM loss; encoders with a task head
// train the head's loss, the head's copy (modules_to_save) training with the method.
#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <cstring>

#include "adapters/adapter_io.h"
#include "adapters/registry.h"
#include "cli/cli_runner.h"
#include "model/decoder.h"
#include "model/model.h"
#include "train/optimizer.h"

namespace peft {
namespace {

struct MethodRow {
  const char* name;
  const char* method;
  Json config;            // adapter_config fields
  bool identity_at_init;  // output equals the base model right after init
  bool mergeable;
};

std::vector<MethodRow> rows() {
  return {
      {"lora", "lora", Json{{"r", 4}, {"lora_alpha", 8}, {"target_modules", "all-linear"}}, true, true},
      {"lora_rslora_dropout", "lora", Json{{"r", 4}, {"lora_alpha", 8}, {"use_rslora", true}, {"lora_dropout", 0.1}},
       true, true},
      {"lora_gaussian_layers", "lora",
       Json{{"r", 2}, {"init_lora_weights", "gaussian"}, {"layers_to_transform", Json::array({1})}}, true, true},
      {"adamix_lora", "adamix",
       Json{{"r", 4}, {"lora_alpha", 8}, {"num_experts", 3}, {"share_up", false}, {"lora_dropout", 0.1}}, true, true},
      {"adamix_shared_up_all_linear", "adamix", Json{{"r", 2}, {"num_experts", 2}, {"target_modules", "all-linear"}},
       true, true},
      {"adamix_bottleneck", "adamix",
       Json{{"base", "bottleneck"},
            {"bottleneck_size", 4},
            {"num_experts", 3},
            {"share_up", false},
            {"adapter_dropout", 0.1}},
       true, false},
      {"adamix_bottleneck_shared_up_tanh", "adamix",
       Json{{"base", "bottleneck"}, {"bottleneck_size", 8}, {"num_experts", 2}, {"non_linearity", "tanh"}}, true,
       false},
      {"ia3", "ia3", Json::object(), true, true},
      {"prompt_tuning", "prompt", Json{{"num_virtual_tokens", 3}}, false, false},
      {"adalink", "adalink", Json{{"r", 4}}, true, true},
      {"adalink_two_modalities", "adalink", Json{{"r", 2}, {"modalities", {"text", "instruction"}}}, true, false},
      {"prefix_tuning", "prefix", Json{{"num_virtual_tokens", 3}}, false, false},
      {"ia3_all_linear", "ia3", Json{{"target_modules", "all-linear"}, {"feedforward_modules", Json::array()}}, true,
       true},
      {"bottleneck_series_mam", "bottleneck", Json{{"bottleneck_size", 8}, {"init_weights", "mam_adapter"}}, true,
       false},
      {"bottleneck_parallel", "bottleneck",
       Json{{"bottleneck_size", 8},
            {"use_parallel_adapter", true},
            {"non_linearity", "relu"},
            {"init_weights", "mam_adapter"},
            {"adapter_dropout", 0.1}},
       true, false},
      {"bottleneck_houlsby", "bottleneck",
       Json{{"bottleneck_size", 8}, {"preset", "houlsby"}, {"init_weights", "mam_adapter"}}, true, false},
      {"bottleneck_pfeiffer", "bottleneck",
       Json{{"bottleneck_size", 8}, {"preset", "pfeiffer"}, {"non_linearity", "gelu"}}, false, false},
      {"bottleneck_learned_scaling", "bottleneck",
       Json{{"bottleneck_size", 4}, {"scaling", "learned"}, {"non_linearity", "silu"}}, false, false},
  };
}

struct MethodSetup {
  std::unique_ptr<Model> model;
  std::unique_ptr<Adapter> adapter;
  std::vector<int32_t> ids, targets;
  std::vector<float> task_labels;  // models with a task head
  std::vector<int32_t> seq_lens;   // encoders: the second row right-padded
  int64_t B = 2, T = 9;
  bool head() const { return !model->head.empty(); }
  TokenInputs inputs() const {
    TokenInputs in;
    if (!seq_lens.empty()) in.seq_lens = seq_lens.data();
    return in;
  }
  // The loss of a forward (LM or task head) on `dec`.
  float forward(Decoder& dec, bool want_grad) {
    return head() ? dec.forward_task(ids.data(), task_labels.data(), B, T, want_grad, inputs())
                  : dec.forward(ids.data(), targets.data(), B, T, want_grad);
  }
};

// "arch" or "arch@base_dtype": the second form quantizes the base at load (a quantized frozen base).
std::pair<std::string, std::string> split_base(const std::string& param) {
  const size_t at = param.find('@');
  return at == std::string::npos ? std::pair{param, std::string()}
                                 : std::pair{param.substr(0, at), param.substr(at + 1)};
}

MethodSetup make(const std::string& param, const MethodRow& row) {
  MethodSetup s;
  const auto [arch, base_dtype] = split_base(param);
  const LoadOptions lo = *load_options_from_base_dtype(base_dtype);
  auto m = load_model(test::fixture_dir(arch) + "/model", lo);
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  s.model = std::move(*m);
  const MethodDef* def = find_method(row.method);
  auto a = def->create(*s.model, row.config, row.name, 7);
  // An attention without past key/value rows (DeBERTa) refuses prefix tuning, by name.
  if (row.method == std::string("prefix") && !s.model->config.kv_prefix) {
    EXPECT_FALSE(a.is_ok());
    if (!a.is_ok()) {
      EXPECT_NE(a.status().message().find("prefix tuning needs an attention"), std::string::npos);
    }
    return s;
  }
  EXPECT_TRUE(a.is_ok()) << a.status().message();
  s.adapter = std::move(*a);
  s.adapter->reserve(s.B * s.T);
  for (int64_t i = 0; i < s.B * s.T; ++i) s.ids.push_back(int32_t((i * 37 + 11) % s.model->config.n_vocab));
  s.targets = s.ids;  // labels = input ids, as Hugging Face's causal-LM loss
  if (s.head()) {
    const TaskSpec& t = s.model->task;
    const int64_t rows = t.task == TaskType::TokenCls ? s.B * s.T : s.B;
    const int64_t per_row = t.problem == ProblemType::MultiLabel ? t.num_labels : 1;
    for (int64_t i = 0; i < rows * per_row; ++i)
      s.task_labels.push_back(t.problem == ProblemType::Regression   ? 0.5f * float(i % 5)
                              : t.problem == ProblemType::MultiLabel ? float(i % 2)
                                                                     : float(i % t.num_labels));
    if (!s.model->config.causal) s.seq_lens = {int32_t(s.T), int32_t(s.T - 3)};
  }
  return s;
}

std::vector<float> logits_of(MethodSetup& s, SiteHooks* hooks) {
  Decoder dec(*s.model, s.B, s.T, hooks);
  if (s.head()) {
    dec.forward_task(s.ids.data(), nullptr, s.B, s.T, false, s.inputs());
    const int64_t n = task_head_rows(*s.model, s.B, dec.seq_len()) * s.model->task.num_labels;
    return std::vector<float>(dec.task_logits(), dec.task_logits() + n);
  }
  dec.forward(s.ids.data(), nullptr, s.B, s.T);
  std::vector<float> out(size_t(s.B * dec.seq_len() * s.model->config.n_vocab));
  dec.logits(out.data());
  return out;
}

// Bytes of every base matrix, to prove training leaves the base untouched.
std::vector<char> base_bytes(const Model& m) {
  std::vector<char> out;
  for (const LayerWeights& w : m.layers)
    for (Site site : kLinearSites)
      if (const Linear* l = linear_at(w, site))
        out.insert(out.end(), static_cast<const char*>(l->w.data), static_cast<const char*>(l->w.data) + l->w.nbytes());
  return out;
}

class MethodProperties : public ::testing::TestWithParam<std::tuple<MethodRow, std::string>> {};

TEST_P(MethodProperties, Hold) {
  const auto& [row, arch] = GetParam();
  MethodSetup s = make(arch, row);
  if (!s.adapter) return;  // refused by name, as make() checked: that is this pair's property
  const int64_t V = s.model->config.n_vocab;
  std::vector<float> base = logits_of(s, nullptr);
  std::vector<float> init = logits_of(s, s.adapter.get());
  if (row.identity_at_init) {
    EXPECT_LE(test::max_abs_diff(base.data(), init.data(), int64_t(base.size())), 1e-6);
  }

  // Gradient checkpointing (blocks recomputed in the backward) gives the same gradients.
  {
    s.adapter->set_mode(AdapterRunMode{true, 11, 12});
    std::vector<float> grads[2];
    for (bool checkpoint : {false, true}) {
      Decoder d(*s.model, s.B, s.T, s.adapter.get(), DecoderOptions{checkpoint});
      s.adapter->params().zero_grads();
      s.forward(d, true);
      d.backward();
      const float* g = s.adapter->params().grads();
      grads[checkpoint].assign(g, g + s.adapter->params().numel());
    }
    EXPECT_LE(test::max_abs_diff(grads[0].data(), grads[1].data(), int64_t(grads[0].size())), 1e-6)
        << "checkpointed gradients differ";
    s.adapter->params().zero_grads();
  }

  // A few training steps: only adapter parameters change, outputs stay finite.
  const std::vector<char> before = base_bytes(*s.model);
  Decoder dec(*s.model, s.B, s.T, s.adapter.get());
  AdamW opt(s.adapter->params(), AdamWHyper{5e-2f});
  std::vector<float> start(s.adapter->params().values(), s.adapter->params().values() + s.adapter->params().numel());
  for (int step = 0; step < 3; ++step) {
    s.adapter->set_mode(AdapterRunMode{true, uint64_t(step)});
    s.adapter->params().zero_grads();
    float loss = s.forward(dec, true);
    ASSERT_TRUE(std::isfinite(loss));
    dec.backward();
    opt.step(5e-2f);
  }
  s.adapter->set_mode(AdapterRunMode{});
  EXPECT_EQ(before, base_bytes(*s.model)) << "base weights changed";
  bool moved = false;
  for (int64_t i = 0; i < s.adapter->params().numel(); ++i)
    moved |= start[size_t(i)] != s.adapter->params().values()[i];
  EXPECT_TRUE(moved) << "adapter parameters did not train";
  std::vector<float> trained = logits_of(s, s.adapter.get());
  for (float v : trained) ASSERT_TRUE(std::isfinite(v));
  EXPECT_GT(test::max_abs_diff(base.data(), trained.data(), int64_t(base.size())), 1e-4);

  // Save → load is bit-exact and gives the same outputs.
  test::TempDir dir;
  ASSERT_TRUE(save_adapter(*s.adapter, dir / "a", "base").is_ok());
  auto loaded = load_adapter(*s.model, dir / "a");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  ASSERT_EQ((*loaded)->params().numel(), s.adapter->params().numel());
  EXPECT_EQ(0, std::memcmp((*loaded)->params().values(), s.adapter->params().values(),
                           size_t(s.adapter->params().numel()) * 4));
  std::vector<float> reloaded = logits_of(s, loaded->get());
  EXPECT_EQ(trained, reloaded);

  // Merged = unmerged (or a clear refusal).
  Status merged = s.adapter->merge(*s.model);
  if (!row.mergeable) {
    EXPECT_FALSE(merged.is_ok());
    return;
  }
  ASSERT_TRUE(merged.is_ok()) << merged.message();
  std::vector<float> folded = logits_of(s, nullptr);
  // A quantized base merges into exact f32 weights, while unmerged products round the decoded
  // weights to bf16: the difference is a bf16 base's.
  const bool quantized_base = !split_base(arch).second.empty();
  double scale = 0;
  for (float v : trained) scale = std::max(scale, double(std::fabs(v)));
  EXPECT_LE(test::max_abs_diff(folded.data(), trained.data(), int64_t(base.size())),
            quantized_base ? 2e-2 * scale : 1e-4)
      << V;
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, MethodProperties,
    ::testing::Combine(::testing::ValuesIn(rows()),
                       ::testing::Values("llama", "gpt2", "bloom", "local:qwen3", "local:smollm3", "local:olmo2",
                                         "local:gemma2", "local:gemma3_text", "local:phi3", "llama@q4_0",
                                         "gpt2@q8_0:all", "local:qwen3@nf4", "local:encoders/bert_seqcls",
                                         "local:encoders/roberta_seqcls", "local:encoders/bert_tokcls",
                                         "local:encoders/bert_regression", "local:encoders/deberta_v2_seqcls")),
    [](const auto& info) {
      auto parts = split_base(std::get<1>(info.param));
      std::replace(parts.second.begin(), parts.second.end(), ':', '_');
      std::replace(parts.first.begin(), parts.first.end(), '/', '_');
      return std::string(std::get<0>(info.param).name) + "_" + test::fixture_name(parts.first) +
             (parts.second.empty() ? "" : "_" + parts.second);
    });

}  // namespace
}  // namespace peft
