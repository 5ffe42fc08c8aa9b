// peft train with data segments on stories260K: AdaLink trains one module per modality from
// the data; unknown names and bad segments fail with one clear line and exit 1.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"
#include "cli/stories_suite.h"
#include "io/safetensors.h"

namespace peft {
namespace {

using test::run_peft;

class TrainSegments : public test::StoriesSuite {
 protected:
  static void SetUpTestSuite() {
    StoriesSuite::SetUpTestSuite();
    data_ = *dir_ / "segments.jsonl";
    std::ofstream f(data_);
    for (int i = 0; i < 16; ++i) {
      nlohmann::json rec = {{"instruction", "Tell a story about number " + std::to_string(i)},
                            {"input", i % 2 ? "a red ball" : ""},
                            {"output", "Once upon a time there was a cat. It was " + std::to_string(i) + "."}};
      rec["segments"] = {{{"modality", "instruction"}}, {{"modality", "output"}, {"start", 0}, {"end", 16}}};
      if (i % 2) rec["segments"].push_back({{"modality", "instruction"}, {"field", "input"}, {"start", 2}});
      f << rec.dump() << "\n";
    }
  }
  static std::string train_args(const std::string& data, const std::string& out) {
    return "train --model " + model_ + " --data " + data + " --output " + out +
           " --batch-size 4 --micro-batch-size 2 --max-steps 3 --val-set-size 4 --warmup-steps 0"
           " --learning-rate 1e-2 --eval-steps 3 --save-steps 3 --seed 3";
  }
  static std::string write(const std::string& name, const std::string& lines) {
    const std::string path = *dir_ / name;
    std::ofstream(path) << lines;
    return path;
  }
  static inline std::string data_;
};

double abs_sum(const SafetensorsFile& f, const std::string& name) {
  const Tensor* t = f.find(name);
  EXPECT_NE(t, nullptr) << name;
  double s = 0;
  for (int64_t i = 0; t && i < t->numel(); ++i) s += std::fabs(t->f32()[i]);
  return s;
}

TEST_F(TrainSegments, AdaLinkTrainsOneModulePerModality) {
  const std::string out = *dir_ / "adalink";
  auto r = run_peft(train_args(data_, out) + " --method adalink --adalink-modalities text,instruction,output,code");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto config = nlohmann::json::parse(test::read_all(out + "/adapter_config.json"));
  EXPECT_EQ(config["modalities"], nlohmann::json({"text", "instruction", "output", "code"}));
  // U starts at zero and moves only with gradient: the segments' modules trained, the
  // module no token uses did not.
  auto tensors = SafetensorsFile::open(out + "/adapter_model.safetensors");
  ASSERT_TRUE(tensors.is_ok()) << tensors.status().message();
  for (const char* m : {"text", "instruction", "output"})
    EXPECT_GT(abs_sum(*tensors, std::string("adalink.") + m + ".up"), 0.0) << m;
  EXPECT_EQ(abs_sum(*tensors, "adalink.code.up"), 0.0);
  auto summary = nlohmann::json::parse(test::read_all(out + "/train_summary.json"));
  EXPECT_TRUE(std::isfinite(summary["val_loss"].get<double>()));
}

TEST_F(TrainSegments, UnknownModalityFailsClearly) {
  auto r = run_peft(train_args(data_, *dir_ / "unknown") + " --method adalink --adalink-modalities text,instruction");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error: " + data_ +
                       ": line 1: segment modality 'output' is not one of the adapter's modalities (text, "
                       "instruction); add it to --adalink-modalities"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("check failed"), std::string::npos) << r.err;
}

TEST_F(TrainSegments, BadSegmentsFailClearly) {
  const std::string overlap = write("overlap.jsonl", R"({"text": "Once upon a time"}
{"text": "There was a cat.", "segments": [{"modality": "a", "end": 5}, {"modality": "b", "start": 4}]}
)");
  auto r = run_peft(train_args(overlap, *dir_ / "overlap") + " --method adalink --adalink-modalities text,a,b");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(overlap + ": line 2: segments[0] (text 0..5) and segments[1] (text 4..16) overlap"),
            std::string::npos)
      << r.err;
  const std::string beyond = write("beyond.jsonl", R"({"text": "Once", "segments": [{"modality": "a", "end": 9}]})");
  r = run_peft(train_args(beyond, *dir_ / "beyond") + " --method adalink --adalink-modalities text,a");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(beyond + ": line 1: segments[0]: end 9 is beyond field 'text' (4 characters)"),
            std::string::npos)
      << r.err;
}

TEST_F(TrainSegments, OtherMethodsTrainWithANote) {
  auto r = run_peft(train_args(data_, *dir_ / "lora") + " --method lora --lora-r 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("note: " + data_ + ": 16 records carry segments; --method lora takes no modalities"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace peft
