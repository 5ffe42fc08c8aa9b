// RoPE scaling and the config audit: the scaled fixtures (transformers 4.57) read from a 4.x
// config and from the same config as transformers 5.x writes it, and every key that changes the
// math is read or refused by name.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <vector>

#include "io/safetensors.h"
#include "model/arch.h"
#include "model/decoder.h"
#include "model/math_keys.h"
#include "model/model.h"
#include "test_paths.h"

namespace peft {
namespace {

namespace fs = std::filesystem;

std::string local_fixture(const std::string& name) { return std::string(PEFT_SOURCE_DIR) + "/tests/fixtures/" + name; }

Json read_config(const std::string& model_dir) {
  std::ifstream f(model_dir + "/config.json");
  return Json::parse(f);
}

// The fixture's model folder with its config.json edited, in a fresh temporary folder.
std::string edited_copy(const std::string& fixture, const std::string& tag, const std::function<void(Json&)>& edit) {
  const fs::path dir = fs::temp_directory_path() / ("peft_rope_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(local_fixture(fixture) + "/model/model.safetensors", dir / "model.safetensors");
  Json j = read_config(local_fixture(fixture) + "/model");
  edit(j);
  std::ofstream(dir / "config.json") << j.dump(2);
  return dir.string();
}

// Logits (B·T, V) of the fixture's batch on the model at `dir`.
std::vector<float> logits_of(const std::string& dir, const std::string& fixture) {
  auto model = load_model(dir);
  EXPECT_TRUE(model.is_ok()) << model.status().message();
  if (!model.is_ok()) return {};
  auto io = SafetensorsFile::open(local_fixture(fixture) + "/io.safetensors");
  EXPECT_TRUE(io.is_ok());
  const Tensor* ids = io->find("input_ids");
  const int64_t B = ids->dim(0), T = ids->dim(1), V = (*model)->config.n_vocab;
  std::vector<int32_t> id32(size_t(B * T));
  for (size_t i = 0; i < id32.size(); ++i) id32[i] = int32_t(ids->i64()[i]);
  Decoder dec(**model, B, T);
  dec.forward(id32.data(), nullptr, B, T);
  std::vector<float> out(size_t(B * T * V));
  dec.logits(out.data());
  return out;
}

// transformers 5.x moves rope_theta and rope_scaling into one rope_parameters object.
void to_transformers5(Json& j) {
  Json p = j["rope_scaling"].is_object() ? j["rope_scaling"] : Json::object();
  if (p.contains("type")) {
    p["rope_type"] = p["type"];
    p.erase("type");
  }
  if (!p.contains("rope_type")) p["rope_type"] = "default";
  p["rope_theta"] = j["rope_theta"];
  j.erase("rope_theta");
  j.erase("rope_scaling");
  j["rope_parameters"] = p;
}

class RopeScaling : public ::testing::TestWithParam<std::string> {};

// The same weights read from a 5.x config give the 4.x config's logits exactly, and those are
// the fixture's; without the scaling they are not (the fixture exercises it).
TEST_P(RopeScaling, Transformers5ConfigGivesTheSameLogitsAndScalingMatters) {
  const std::string name = GetParam();
  auto io = SafetensorsFile::open(local_fixture(name) + "/io.safetensors");
  ASSERT_TRUE(io.is_ok());
  const Tensor* ref = io->find("logits");
  const std::vector<float> v4 = logits_of(local_fixture(name) + "/model", name);
  ASSERT_EQ(int64_t(v4.size()), ref->numel());
  EXPECT_LE(test::max_abs_diff(v4.data(), ref->f32(), ref->numel()), 1e-4);

  const std::vector<float> v5 = logits_of(edited_copy(name, "v5", to_transformers5), name);
  ASSERT_EQ(v5.size(), v4.size());
  EXPECT_EQ(test::max_abs_diff(v5.data(), v4.data(), int64_t(v4.size())), 0.0);

  const std::vector<float> plain = logits_of(edited_copy(name, "plain",
                                                         [](Json& j) {
                                                           j["rope_scaling"] = nullptr;
                                                           j.erase("original_max_position_embeddings");
                                                         }),
                                             name);
  ASSERT_EQ(plain.size(), v4.size());
  EXPECT_GT(test::max_abs_diff(plain.data(), v4.data(), int64_t(v4.size())), 1e-3) << "scaling had no effect";
}

INSTANTIATE_TEST_SUITE_P(Types, RopeScaling,
                         ::testing::Values("llama_rope_llama3", "llama_rope_linear", "llama_rope_dynamic",
                                           "llama_rope_yarn", "llama_rope_longrope"));

// parse_model_config's verdict on the llama3 fixture's config after `edit`.
Status parse_edited(const std::function<void(Json&)>& edit, const std::string& model_type = "llama") {
  Json j = read_config(local_fixture("llama_rope_llama3") + "/model");
  j["model_type"] = model_type;
  edit(j);
  const ArchDef* arch = find_arch(model_type);
  if (!arch) return Status::errorf("no arch {}", model_type);
  auto parsed = parse_model_config(*arch, j, "config.json");
  return parsed.is_ok() ? Status::ok() : parsed.status();
}

struct Refusal {
  const char* name;
  const char* model_type;
  std::function<void(Json&)> edit;
  const char* message;  // "" = accepted
};

TEST(ConfigAudit, MathKeysAreReadOrRefusedByName) {
  const std::vector<Refusal> rows = {
      {"unknown rope type", "llama",
       [](Json& j) {
         j["rope_scaling"] = {{"rope_type", "su2"}, {"factor", 2}};
       },
       "rope type 'su2' is not supported"},
      {"unknown scaling key", "llama",
       [](Json& j) {
         j["rope_scaling"]["mrope_section"] = {16, 24, 24};
       },
       "rope scaling key 'mrope_section'"},
      {"llama3 without low_freq_factor", "llama", [](Json& j) { j["rope_scaling"].erase("low_freq_factor"); },
       "llama3 rope scaling needs 'low_freq_factor'"},
      {"linear without factor", "llama",
       [](Json& j) {
         j["rope_scaling"] = {{"type", "linear"}};
       },
       "linear rope scaling needs 'factor'"},
      {"longrope factors of the wrong length", "llama",
       [](Json& j) {
         j["rope_scaling"] = {{"rope_type", "longrope"}, {"short_factor", {1.0, 1.0}}, {"long_factor", {1.0, 1.0}}};
       },
       "need 8 entries"},
      {"rope_scaling and rope_parameters", "llama",
       [](Json& j) {
         j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 10000}};
       },
       "both rope_scaling"},
      {"rope_parameters per layer type", "llama",
       [](Json& j) {
         j.erase("rope_scaling");
         j["rope_parameters"] = {{"full_attention", {{"rope_type", "default"}}}};
       },
       "per layer type"},
      {"rope_scaling of the wrong type", "llama", [](Json& j) { j["rope_scaling"] = "llama3"; },
       "rope_scaling must be an object"},
      {"mlp_bias", "llama", [](Json& j) { j["mlp_bias"] = true; }, "'mlp_bias' = true changes"},
      {"soft-capping", "llama", [](Json& j) { j["attn_logit_softcapping"] = 50.0; }, "'attn_logit_softcapping'"},
      {"quantized", "llama",
       [](Json& j) {
         j["quantization_config"] = {{"quant_method", "bitsandbytes"}};
       },
       "'quantization_config'"},
      {"sliding layers", "qwen2",
       [](Json& j) {
         j["layer_types"] = {"sliding_attention", "full_attention"};
       },
       "'layer_types'"},
      {"rope on a learned-position model", "gpt2",
       [](Json& j) {
         j["rope_scaling"] = {{"type", "linear"}};
       },
       "'rope_scaling'"},
      {"neutral values are accepted", "qwen2",
       [](Json& j) {
         j["layer_types"] = {"full_attention", "full_attention"};
         j["use_sliding_window"] = false;
         j["mlp_bias"] = false;
         j["partial_rotary_factor"] = 1.0;
       },
       ""},
      {"partial rotary", "llama", [](Json& j) { j["partial_rotary_factor"] = 0.5; }, ""},
  };
  for (const Refusal& r : rows) {
    Status s = parse_edited(r.edit, r.model_type);
    if (std::string(r.message).empty()) {
      EXPECT_TRUE(s.is_ok()) << r.name << ": " << s.message();
    } else {
      ASSERT_FALSE(s.is_ok()) << r.name;
      EXPECT_NE(s.message().find(r.message), std::string::npos) << r.name << ": " << s.message();
      EXPECT_NE(s.message().find("config.json"), std::string::npos) << r.name << ": " << s.message();
    }
  }
}

// Gemma 3: transformers 5.x writes one RoPE per layer type; the same weights give the 4.x
// config's logits, and the local layers' base (100 in the fixture) is not ignored.
TEST(Gemma3Rope, PerLayerTypeRopeParametersGiveTheSameLogits) {
  const std::string name = "gemma3_text";
  const std::vector<float> v4 = logits_of(local_fixture(name) + "/model", name);
  const std::vector<float> v5 = logits_of(
      edited_copy(name, "g3v5",
                  [](Json& j) {
                    Json full = j["rope_scaling"];
                    full["rope_theta"] = j["rope_theta"];
                    j["rope_parameters"] = {
                        {"full_attention", full},
                        {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", j["rope_local_base_freq"]}}}};
                    j.erase("rope_theta");
                    j.erase("rope_scaling");
                    j.erase("rope_local_base_freq");
                  }),
      name);
  ASSERT_EQ(v5.size(), v4.size());
  EXPECT_EQ(test::max_abs_diff(v5.data(), v4.data(), int64_t(v4.size())), 0.0);
  const std::vector<float> local =
      logits_of(edited_copy(name, "g3local", [](Json& j) { j["rope_local_base_freq"] = 10000.0; }), name);
  ASSERT_EQ(local.size(), v4.size());
  EXPECT_GT(test::max_abs_diff(local.data(), v4.data(), int64_t(v4.size())), 1e-3) << "local base had no effect";
}

// Every parser refuses what is not an object with an error, never an exception (a fuzzer
// finding: Gemma's and Phi-3's parsers filled defaults into a copy with operator[]).
TEST(ConfigAudit, NonObjectConfigsAreRefusedByEveryArchitecture) {
  for (const Json& j : {Json::array(), Json(1), Json("x"), Json(nullptr), Json::array({1, 2})})
    for (const ArchDef* a : all_archs()) {
      auto parsed = parse_model_config(*a, j, "config.json");
      EXPECT_FALSE(parsed.is_ok()) << a->model_type << " " << j.dump();
    }
  Json rope = read_config(local_fixture("gemma3_text") + "/model");
  rope["rope_parameters"] = {{"full_attention", 1}, {"sliding_attention", Json::array()}};
  rope.erase("rope_scaling");
  EXPECT_FALSE(parse_model_config(*find_arch("gemma3_text"), rope, "config.json").is_ok());
}

TEST(ConfigAudit, GemmaKeysAreReadOrRefused) {
  const std::vector<Refusal> rows = {
      {"bidirectional", "gemma3_text", [](Json& j) { j["use_bidirectional_attention"] = true; },
       "use_bidirectional_attention=true"},
      {"layer_types of the wrong length", "gemma3_text", [](Json& j) { j["layer_types"] = {"full_attention"}; },
       "layer_types must list one type per layer"},
      {"unknown layer type", "gemma2",
       [](Json& j) {
         j["layer_types"] = {"chunked_attention", "full_attention", "full_attention", "full_attention"};
       },
       "layer_types entry \"chunked_attention\""},
      {"rope_parameters with another key", "gemma3_text",
       [](Json& j) {
         j.erase("rope_scaling");
         j["rope_parameters"] = {{"full_attention", {{"rope_type", "default"}}}, {"global", Json::object()}};
       },
       "'global' is not a layer type"},
      {"negative query_pre_attn_scalar", "gemma2", [](Json& j) { j["query_pre_attn_scalar"] = -4; },
       "query_pre_attn_scalar must be positive"},
      {"negative soft-cap", "gemma2", [](Json& j) { j["final_logit_softcapping"] = -1.0; },
       "soft-capping values must be positive"},
      {"sliding layers without a window", "gemma2", [](Json& j) { j["sliding_window"] = 0; },
       "need a positive sliding_window"},
      {"gemma with a window", "gemma", [](Json& j) { j["sliding_window"] = 8; }, "'sliding_window'"},
      {"gemma 3 stores an attention cap it never applies", "gemma3_text",
       [](Json& j) { j["attn_logit_softcapping"] = 50.0; }, ""},
  };
  for (const Refusal& r : rows) {
    Json j = read_config(local_fixture(r.model_type) + "/model");
    r.edit(j);
    auto parsed = parse_model_config(*find_arch(r.model_type), j, "config.json");
    if (std::string(r.message).empty()) {
      EXPECT_TRUE(parsed.is_ok()) << r.name << ": " << parsed.status().message();
    } else {
      ASSERT_FALSE(parsed.is_ok()) << r.name;
      EXPECT_NE(parsed.status().message().find(r.message), std::string::npos)
          << r.name << ": " << parsed.status().message();
    }
  }
}

}  // namespace
}  // namespace peft
