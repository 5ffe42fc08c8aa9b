// LoRA adapters as llama.cpp GGUF files: export → import round trips on every GGUF architecture
// (row reorders undone, rsLoRA scaling kept, --adapter-scale), and the bad inputs of issue 12.
// llama.cpp itself runs these files in tests/interop/clients/llama_cpp_roundtrip.py.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "adapters/adapter_io.h"
#include "adapters/registry.h"
#include "cli/cli_runner.h"
#include "io/gguf_writer.h"
#include "model/gguf_export.h"
#include "model/inference.h"
#include "model/model.h"
#include "test_paths.h"

namespace peft {
namespace {

using test::TempDir;

// Logits (T, V) of one sequence, with an adapter.
std::vector<float> logits_of(const Model& m, Adapter* adapter, const std::vector<int32_t>& ids) {
  const int64_t T = int64_t(ids.size());
  InferenceRunner run(m, 1, T, T, adapter);
  std::vector<float> out(size_t(T * m.config.n_vocab));
  run.forward(ids.data(), T, out.data(), true);
  return out;
}

std::vector<int32_t> some_ids(int64_t vocab) {
  std::vector<int32_t> ids;
  for (int64_t t = 0; t < 10; ++t) ids.push_back(int32_t((t * 37 + 11) % vocab));
  return ids;
}

template <typename T>
T ok(Result<T> r) {
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return std::move(r).value();
}

// PEFT's own LoRA fixtures (../shared/fixtures/<arch>/lora/adapter): llama (GQA, q/k rows
// interleaved by llama.cpp), gpt2 (Conv1D, fused c_attn), gpt_neox and bloom (per-head fused
// qkv, stored [q | k | v] by llama.cpp).
class LoraGgufRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(LoraGgufRoundTrip, ExportedFileGivesTheFolderAdaptersLogits) {
  TempDir dir;
  auto model = ok(load_model(test::fixture_path(GetParam() + "/model")));
  auto folder = ok(load_adapter(*model, test::fixture_path(GetParam() + "/lora/adapter")));
  const std::string file = dir / "lora.gguf";
  AdapterExportOptions opt;
  ASSERT_TRUE(folder->export_as("gguf-lora", *model, opt, file).is_ok());
  auto gguf = ok(load_adapter(*model, file));
  const auto ids = some_ids(model->config.n_vocab);
  const auto base = logits_of(*model, nullptr, ids);
  for (double scale : {1.0, 0.5, 0.0}) {
    ASSERT_TRUE(folder->set_scale(scale).is_ok());
    ASSERT_TRUE(gguf->set_scale(scale).is_ok());
    const auto want = logits_of(*model, folder.get(), ids), got = logits_of(*model, gguf.get(), ids);
    EXPECT_LE(test::max_abs_diff(got.data(), want.data(), int64_t(want.size())), 1e-6) << "scale " << scale;
    if (scale == 0.0)
      EXPECT_LE(test::max_abs_diff(got.data(), base.data(), int64_t(base.size())), 1e-6);
    else
      EXPECT_GT(test::max_abs_diff(got.data(), base.data(), int64_t(base.size())), 1e-2) << "adapter has no effect";
  }
  // On the base exported to GGUF too (the layout llama.cpp sees): the same logits.
  GgufExportOptions mopt;
  ASSERT_TRUE(export_gguf(*model, nullptr, mopt, dir / "base.gguf").is_ok());
  auto gguf_model = ok(load_model(dir / "base.gguf"));
  auto on_gguf = ok(load_adapter(*gguf_model, file));
  ASSERT_TRUE(folder->set_scale(1.0).is_ok());
  const auto want = logits_of(*model, folder.get(), ids), got = logits_of(*gguf_model, on_gguf.get(), ids);
  EXPECT_LE(test::max_abs_diff(got.data(), want.data(), int64_t(want.size())), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, LoraGgufRoundTrip, ::testing::Values("llama", "gpt2", "gpt_neox", "bloom"));

TEST(LoraGguf, RsloraScalingComesOutAsAlphaForLlamaCpp) {
  TempDir dir;
  const std::string model = test::fixture_path("llama/model");
  // r = 4, alpha 8, rsLoRA: scaling 8/√4 = 4; llama.cpp scales by alpha/r, so alpha = 16.
  const std::string config = dir / "config.json";
  {
    std::ofstream f(config);
    f << R"({"r": 4, "lora_alpha": 8, "use_rslora": true, "init_lora_weights": false, "target_modules": ["q_proj"]})";
  }
  auto m = ok(load_model(model));
  auto adapter = ok(find_method("lora")->create(*m, ok(read_json_file(config)), config, 1));
  AdapterExportOptions opt;
  ASSERT_TRUE(adapter->export_as("gguf-lora", *m, opt, dir / "x.gguf").is_ok());
  auto f = ok(GgufFile::open(dir / "x.gguf"));
  EXPECT_EQ(ok(f.get_string("general.type")), "adapter");
  EXPECT_EQ(ok(f.get_string("adapter.type")), "lora");
  EXPECT_EQ(ok(f.get_string("general.architecture")), "llama");
  EXPECT_FLOAT_EQ(float(ok(f.get_float("adapter.lora.alpha"))), 16.f);
  const GgufTensorInfo* a = f.find_tensor("blk.0.attn_q.weight.lora_a");
  const GgufTensorInfo* b = f.find_tensor("blk.0.attn_q.weight.lora_b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->ne, (std::vector<int64_t>{m->config.n_embd, 4}));  // ne[0] = in, as llama.cpp checks
  EXPECT_EQ(b->ne, (std::vector<int64_t>{4, m->config.q_dim()}));
}

// A hand-made LoRA GGUF for the llama fixture: `drop_b` leaves out a .lora_b, `rank_b` gives
// B another rank.
std::string handmade(const TempDir& dir, const std::string& name, const std::string& arch, bool drop_b, int64_t rank_b,
                     int64_t in = 64) {
  GgufWriter w;
  w.set_string("general.architecture", arch);
  w.set_string("general.type", "adapter");
  w.set_string("adapter.type", "lora");
  w.set_f32("adapter.lora.alpha", 8.f);
  std::vector<float> a(size_t(4 * in), 0.01f), b(size_t(64 * rank_b), 0.01f);
  w.add_tensor("blk.0.attn_q.weight.lora_a", GgmlType::F32, {4, in}, encode_ggml(a.data(), 4 * in, GgmlType::F32));
  if (!drop_b)
    w.add_tensor("blk.0.attn_q.weight.lora_b", GgmlType::F32, {64, rank_b},
                 encode_ggml(b.data(), 64 * rank_b, GgmlType::F32));
  const std::string path = dir / name;
  EXPECT_TRUE(w.write(path).is_ok());
  return path;
}

TEST(LoraGguf, BadInputNamesTheFileAndTheTensor) {
  TempDir dir;
  const std::string llama = test::fixture_path("llama/model");
  ASSERT_EQ(llama.size() > 0, true);
  auto logits = [&](const std::string& model, const std::string& adapter, const std::string& extra = "") {
    return test::run_peft("logits --model " + model + " --adapter " + adapter + " --input " +
                          test::fixture_path("llama/io.safetensors") + " --output " + (dir / "out.safetensors") + " " +
                          extra);
  };
  ASSERT_EQ(test::run_peft("export --format gguf --model " + llama + " --out " + (dir / "llama.gguf")).exit_code, 0);
  struct Case {
    std::string model, adapter, extra, error;
  };
  const std::string good = handmade(dir, "good.gguf", "llama", false, 4);
  const Case cases[] = {
      {llama, dir / "llama.gguf", "", "this GGUF file is a model, not an adapter (pass it as --model)"},
      {dir / "good.gguf", good, "", "this GGUF file is an adapter, not a model (pass it as --adapter)"},
      {llama, handmade(dir, "gpt2.gguf", "gpt2", false, 4), "", "a LoRA for GGUF architecture 'gpt2', but the model"},
      {llama, handmade(dir, "nob.gguf", "llama", true, 4), "", "tensor 'blk.0.attn_q.weight.lora_b' is missing"},
      {llama, handmade(dir, "rank.gguf", "llama", false, 3), "", "rank mismatch in 'blk.0.attn_q.weight'"},
      {llama, handmade(dir, "size.gguf", "llama", false, 4, 48), "", "an adapter for another model size?"},
      {llama, good, "--adapter-scale abc", "--adapter-scale"},
      {llama, test::fixture_path("llama/ia3/adapter"), "--adapter-scale 0.5",
       "--adapter-scale applies to LoRA adapters"},
      {llama, dir / "missing.gguf", "", "no such adapter folder or GGUF adapter file"},
  };
  for (const Case& c : cases) {
    auto r = logits(c.model, c.adapter, c.extra);
    EXPECT_NE(r.exit_code, 0) << c.adapter;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << c.adapter << ": " << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "out.safetensors")) << c.adapter;
  }
  auto r = test::run_peft("logits --model " + llama + " --adapter-scale 2 --input " +
                          test::fixture_path("llama/io.safetensors") + " --output " + (dir / "out.safetensors"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--adapter-scale needs --adapter"), std::string::npos) << r.err;
  EXPECT_EQ(logits(llama, good).exit_code, 0);
}

TEST(LoraGguf, ExportRefusesFormatsTheAdapterHasNot) {
  TempDir dir;
  const std::string llama = test::fixture_path("llama/model");
  auto r = test::run_peft("export --format gguf-lora --model " + llama + " --adapter " +
                          test::fixture_path("llama/ia3/adapter") + " --out " + (dir / "x.gguf"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("a ia3 adapter has no other format to export to"), std::string::npos) << r.err;
  r = test::run_peft("export --format peft-lora --model " + llama + " --adapter " +
                     test::fixture_path("llama/lora/adapter") + " --out " + (dir / "y"));
  EXPECT_NE(r.err.find("a lora adapter exports as --format gguf-lora"), std::string::npos) << r.err;
  r = test::run_peft("export --format gguf-lora --model " + test::fixture_path("opt/model") + " --adapter " +
                     test::fixture_path("opt/lora/adapter") + " --out " + (dir / "z.gguf"));
  EXPECT_NE(r.err.find("llama.cpp has no 'opt' architecture"), std::string::npos) << r.err;
  // --format gguf with --adapter merges it (an unmergeable one is refused).
  r = test::run_peft("export --format gguf --model " + llama + " --adapter " +
                     test::fixture_path("llama/prefix_tuning/adapter") + " --out " + (dir / "m.gguf"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot be merged"), std::string::npos) << r.err;
  for (const char* f : {"x.gguf", "y", "z.gguf", "m.gguf"}) EXPECT_FALSE(std::filesystem::exists(dir / f)) << f;
}

TEST(LoraGguf, MergedGgufExportEqualsTheAdaptedModel) {
  TempDir dir;
  const std::string llama = test::fixture_path("llama/model"), adapter = test::fixture_path("llama/lora/adapter");
  ASSERT_EQ(
      test::run_peft("export --format gguf --model " + llama + " --adapter " + adapter + " --out " + (dir / "m.gguf"))
          .exit_code,
      0);
  auto model = ok(load_model(llama));
  auto lora = ok(load_adapter(*model, adapter));
  auto merged = ok(load_model(dir / "m.gguf"));
  const auto ids = some_ids(model->config.n_vocab);
  const auto want = logits_of(*model, lora.get(), ids), got = logits_of(*merged, nullptr, ids);
  EXPECT_LE(test::max_abs_diff(got.data(), want.data(), int64_t(want.size())), 1e-4);
}

}  // namespace
}  // namespace peft
