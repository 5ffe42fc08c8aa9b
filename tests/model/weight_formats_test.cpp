// Checkpoints in F16/BF16, sharded folders, and the base-dtype choice all load and run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli/cli_runner.h"
#include "io/json_file.h"
#include "io/safetensors.h"
#include "model/inference.h"
#include "model/model.h"

namespace peft {
namespace {

namespace fs = std::filesystem;

// Writes the fixture model of `arch` into `dir` with every float tensor stored as `dtype`,
// split over `shards` files (with an index when shards > 1).
void write_variant(const std::string& arch, const std::string& dir, DType dtype, int shards) {
  fs::create_directories(dir);
  fs::copy_file(test::fixture_path(arch + "/model/config.json"), dir + "/config.json");
  auto src = SafetensorsFile::open(test::fixture_path(arch + "/model/model.safetensors"));
  ASSERT_TRUE(src.is_ok());
  std::vector<OwnedTensor> storage;
  std::vector<std::vector<NamedTensor>> parts(static_cast<size_t>(shards));
  Json weight_map = Json::object();
  size_t i = 0;
  for (const std::string& name : src->names()) {
    const Tensor& t = *src->find(name);
    OwnedTensor conv(dtype, t.dims());
    OwnedTensor f32 = to_f32(t);
    convert_from_f32(conv.view().data, dtype, f32.f32(), size_t(t.numel()));
    const size_t shard = i++ % size_t(shards);
    parts[shard].push_back({name, conv.view()});
    weight_map[name] = "model-" + std::to_string(shard) + ".safetensors";
    storage.push_back(std::move(conv));
  }
  if (shards == 1) {
    ASSERT_TRUE(write_safetensors(dir + "/model.safetensors", parts[0]).is_ok());
    return;
  }
  for (int s = 0; s < shards; ++s)
    ASSERT_TRUE(write_safetensors(dir + "/model-" + std::to_string(s) + ".safetensors", parts[size_t(s)]).is_ok());
  ASSERT_TRUE(write_json_file(dir + "/model.safetensors.index.json",
                              Json{{"metadata", Json::object()}, {"weight_map", weight_map}})
                  .is_ok());
}

// Max |logits − fixture logits| of a model on the fixture batch.
double logits_error(const std::string& arch, const Model& m) {
  auto io = SafetensorsFile::open(test::fixture_path(arch + "/io.safetensors"));
  const Tensor* ids64 = io->find("input_ids");
  const int64_t B = ids64->dim(0), T = ids64->dim(1), V = m.config.n_vocab;
  std::vector<int32_t> ids(size_t(B * T));
  for (size_t k = 0; k < ids.size(); ++k) ids[k] = int32_t(ids64->i64()[k]);
  std::vector<float> logits(size_t(B * T * V));
  InferenceRunner runner(m, B, T, T);
  runner.forward(ids.data(), T, logits.data(), true);
  return test::max_abs_diff(logits.data(), io->find("logits")->f32(), B * T * V);
}

struct Variant {
  const char* name;
  DType file_dtype;
  int shards;
  std::optional<DType> base;
  DType expect_matrix;  // storage of the q/k/v... matrices after loading
  double tolerance;
};

class WeightFormats : public ::testing::TestWithParam<Variant> {};

TEST_P(WeightFormats, LoadsAndMatchesTheFp32Reference) {
  const Variant v = GetParam();
  for (const std::string arch : {"llama", "gpt2"}) {
    test::TempDir dir;
    write_variant(arch, dir / "m", v.file_dtype, v.shards);
    LoadOptions opt;
    opt.base_dtype = v.base;
    auto model = load_model(dir / "m", opt);
    ASSERT_TRUE(model.is_ok()) << model.status().message();
    EXPECT_EQ((*model)->layers[0].o.w.dtype, v.expect_matrix) << arch;
    EXPECT_EQ((*model)->layers[0].attn_norm.w.dtype, DType::F32) << "norms stay F32";
    const double err = logits_error(arch, **model);
    RecordProperty(arch + "_logits_err", std::to_string(err));
    EXPECT_LE(err, v.tolerance) << arch;
  }
}

// Tolerances: F32 files are exact to the fixture's 1e-4; F16/BF16 files lose precision in
// the weights themselves (the logits here are O(10)).
INSTANTIATE_TEST_SUITE_P(Model, WeightFormats,
                         ::testing::Values(Variant{"f32_sharded", DType::F32, 3, std::nullopt, DType::F32, 1e-4},
                                           Variant{"f32_as_bf16", DType::F32, 1, DType::BF16, DType::BF16, 0.3},
                                           Variant{"f16_default_widens", DType::F16, 1, std::nullopt, DType::F32, 0.05},
                                           Variant{"bf16_default_keeps", DType::BF16, 2, std::nullopt, DType::BF16,
                                                   0.3},
                                           Variant{"bf16_as_f32", DType::BF16, 1, DType::F32, DType::F32, 0.3}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace peft
