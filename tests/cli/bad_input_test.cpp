// Bad input through the CLI: one clear error line, non-zero exit, nothing half-written.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"
#include "io/safetensors.h"

namespace peft {
namespace {

namespace fs = std::filesystem;
using test::run_peft;

using test::expect_error;

// A writable copy of a fixture model folder.
std::string copy_model(const test::TempDir& dir, const std::string& arch) {
  const std::string dst = dir / arch;
  fs::copy(test::fixture_path(arch + "/model"), dst, fs::copy_options::recursive);
  for (auto& e : fs::directory_iterator(dst)) fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  fs::permissions(dst, fs::perms::owner_all, fs::perm_options::add);
  return dst;
}

void edit_config(const std::string& dir, const std::function<void(nlohmann::json&)>& edit) {
  auto j = nlohmann::json::parse(test::read_all(dir + "/config.json"));
  edit(j);
  std::ofstream(dir + "/config.json") << j.dump(2);
}

TEST(BadInput, UnknownFlagAndMissingSubcommand) {
  auto r = run_peft("generate --model x --prompt y --no-such-flag");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no-such-flag"), std::string::npos) << r.err;
  EXPECT_NE(run_peft("").exit_code, 0);
  EXPECT_NE(run_peft("frobnicate").exit_code, 0);
}

TEST(BadInput, TruncatedLlama2cCheckpointWritesNothing) {
  test::TempDir dir;
  const std::string ckpt = dir / "cut.bin";
  std::string bytes = test::read_all(test::shared_path("data/models/stories260K/stories260K.bin"));
  std::ofstream(ckpt, std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  auto r = run_peft("convert --from llama2c --checkpoint " + ckpt + " --tokenizer " +
                    test::shared_path("data/models/stories260K/tok512.model") + " --out " + (dir / "out"));
  expect_error(r, ckpt);
  EXPECT_FALSE(fs::exists(dir / "out"));
  for (auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename().string().find("out"), std::string::npos) << e.path();
}

TEST(BadInput, TokenizerThatDoesNotMatchTheCheckpoint) {
  test::TempDir dir;
  auto r = run_peft("convert --from llama2c --checkpoint " +
                    test::shared_path("data/models/stories260K/stories260K.bin") + " --tokenizer " +
                    test::shared_path("data/tokenizers/llama2/tokenizer.model") + " --out " + (dir / "out"));
  expect_error(r, "32000");
  EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(BadInput, CorruptedSafetensorsInAModelFolder) {
  test::TempDir dir;
  const std::string model = copy_model(dir, "llama");
  const std::string st = model + "/model.safetensors";
  std::string bytes = test::read_all(st);
  std::ofstream(st, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  expect_error(run_peft("generate --model " + model + " --prompt hi"), "model.safetensors");
  // A header that lies about its length.
  std::string lying = bytes;
  uint64_t huge = 1ull << 40;
  std::memcpy(lying.data(), &huge, 8);
  std::ofstream(st, std::ios::binary | std::ios::trunc) << lying;
  expect_error(run_peft("inspect " + st), "model.safetensors");
}

TEST(BadInput, ConfigWithMissingOrInconsistentFields) {
  test::TempDir dir;
  const std::string model = copy_model(dir, "llama");
  const int64_t hidden = nlohmann::json::parse(test::read_all(model + "/config.json"))["hidden_size"];
  edit_config(model, [](nlohmann::json& j) { j.erase("hidden_size"); });
  expect_error(run_peft("inspect " + model), "hidden_size");
  edit_config(model, [](nlohmann::json& j) { j["hidden_size"] = "wide"; });
  expect_error(run_peft("inspect " + model), "hidden_size");
  edit_config(model, [](nlohmann::json& j) {
    j["hidden_size"] = 30;
    j["num_attention_heads"] = 4;
  });
  expect_error(run_peft("inspect " + model), "divisible");
  edit_config(model, [&](nlohmann::json& j) { j["hidden_size"] = 2 * hidden; });
  expect_error(run_peft("inspect " + model), "shape");  // weights no longer fit the config
  edit_config(model, [](nlohmann::json& j) { j["model_type"] = "transformer-xl"; });
  expect_error(run_peft("inspect " + model), "supported: ");
  std::ofstream(model + "/config.json") << "{ \"model_type\": ";
  expect_error(run_peft("inspect " + model), "config.json");
}

TEST(BadInput, MissingTensor) {
  test::TempDir dir;
  const std::string model = copy_model(dir, "gpt2");
  edit_config(model, [](nlohmann::json& j) { j["n_layer"] = j["n_layer"].get<int>() + 1; });
  expect_error(run_peft("inspect " + model), "is missing");
}

TEST(BadInput, LogitsInputOutOfVocabularyWritesNothing) {
  test::TempDir dir;
  int64_t ids[2] = {1, 1 << 20};
  const std::string in = dir / "ids.safetensors";
  ASSERT_TRUE(write_safetensors(in, {{"input_ids", Tensor(ids, DType::I64, {1, 2})}}).is_ok());
  auto r = run_peft("logits --model " + test::fixture_path("llama/model") + " --input " + in + " --output " +
                    (dir / "logits.safetensors"));
  expect_error(r, "outside the vocabulary");
  EXPECT_FALSE(fs::exists(dir / "logits.safetensors"));
  int32_t flat[3] = {1, 2, 3};
  ASSERT_TRUE(write_safetensors(in, {{"input_ids", Tensor(flat, DType::I32, {3})}}).is_ok());
  expect_error(run_peft("logits --model " + test::fixture_path("llama/model") + " --input " + in + " --output " +
                        (dir / "logits.safetensors")),
               "[B, T]");
}

TEST(Logits, MatchesTheFixtureThroughTheCli) {
  for (const std::string arch : {"llama", "gpt2"}) {
    test::TempDir dir;
    const std::string out = dir / "logits.safetensors";
    auto r = run_peft("logits --model " + test::fixture_path(arch + "/model") + " --input " +
                      test::fixture_path(arch + "/io.safetensors") + " --output " + out);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.out.empty());
    auto got = SafetensorsFile::open(out);
    auto ref = SafetensorsFile::open(test::fixture_path(arch + "/io.safetensors"));
    ASSERT_TRUE(got.is_ok() && ref.is_ok());
    const Tensor* a = got->find("logits");
    const Tensor* b = ref->find("logits");
    ASSERT_TRUE(a && b);
    ASSERT_EQ(a->dims(), b->dims());
    EXPECT_LE(test::max_abs_diff(a->f32(), b->f32(), a->numel()), 1e-4) << arch;
  }
}

}  // namespace
}  // namespace peft
