// peft eval end to end: rescoring saved outputs, a real tiny eval on stories260K, bad input.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"
#include "cli/eval_outputs.h"
#include "cli/stories_suite.h"

namespace peft {
namespace {

using test::read_jsonl;
using test::run_peft;
namespace fs = std::filesystem;

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

const char* kBoolq = R"([
 {"instruction": "q0?\n\nAnswer format: true/false", "input": "", "output": "the correct answer is true", "answer": "true"},
 {"instruction": "q1?\n\nAnswer format: true/false", "input": "", "output": "the correct answer is false", "answer": "false"},
 {"instruction": "q2?\n\nAnswer format: true/false", "input": "", "output": "the correct answer is true", "answer": "true"}
])";

TEST(EvalCli, RescoresSavedPredictionsWithoutAModel) {
  test::TempDir dir;
  write(dir / "test.json", kBoolq);
  write(dir / "pred.jsonl",
        "{\"index\": 2, \"output\": \"the correct answer is true\"}\n"
        "{\"index\": 0, \"output\": \"false, or maybe true\"}\n"
        "{\"index\": 1, \"output\": \"I cannot tell\"}\n");
  auto r = run_peft("eval --task boolq --data " + (dir / "test.json") + " --predictions " + (dir / "pred.jsonl") +
                    " --out " + (dir / "out"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "boolq accuracy=0.3333 n=3\n");
  auto res = nlohmann::json::parse(test::read_all(dir / "out/results.json"));
  EXPECT_EQ(res["n"], 3);
  EXPECT_EQ(res["correct"], 1);
  EXPECT_EQ(res["unparsed"], 1);
  EXPECT_EQ(res["hit_limit"], 0);
  EXPECT_EQ(res["settings"]["scoring"], "rescore");
  auto preds = read_jsonl(dir / "out/predictions.jsonl");
  ASSERT_EQ(preds.size(), 3u);
  EXPECT_EQ(preds[0]["index"], 2);
  EXPECT_EQ(preds[0]["correct"], true);
  EXPECT_EQ(preds[1]["extracted"], "false");
  EXPECT_EQ(preds[1]["label"], "true");
  EXPECT_EQ(preds[2]["extracted"], "");
  EXPECT_NE(preds[0]["prompt"].get<std::string>().find("### Response:"), std::string::npos);
}

TEST(EvalCli, BadInputFailsCleanlyAndWritesNothing) {
  test::TempDir dir;
  write(dir / "test.json", kBoolq);
  write(dir / "nofield.json", R"([{"instruction": "a", "answer": "true"}, {"instruction": "b"}])");
  write(dir / "far.jsonl", "{\"index\": 3, \"output\": \"true\"}\n");
  write(dir / "pred.jsonl", "{\"index\": 0, \"output\": \"true\"}\n");
  const std::string out = " --out " + (dir / "out");
  const std::string data = " --data " + (dir / "test.json");
  struct Case {
    std::string args, want;
  };
  const std::vector<Case> cases = {
      {"eval --task mmlu --predictions " + (dir / "pred.jsonl") + data + out, "valid tasks: gsm8k, svamp"},
      {"eval --task boolq --data " + (dir / "nofield.json") + " --predictions " + (dir / "pred.jsonl") + out,
       "record 1: missing field 'answer'"},
      {"eval --task boolq --limit 0 --predictions " + (dir / "pred.jsonl") + data + out, "--limit must be >= 1"},
      {"eval --task boolq --predictions " + (dir / "far.jsonl") + data + out, "line 1: index 3 is out of range"},
      {"eval --task hellaswag --predictions " + (dir / "pred.jsonl") + " --data " + (dir / "hellaswag/test.json") + out,
       "hellaswag/test.json: data file not found"},
      {"eval --task boolq --model x --num-beams 0" + data + out, "--num-beams must be >= 1"},
      {"eval --task gsm8k --model x --scoring likelihood" + data + out, "needs a multiple-choice task"},
      {"eval --task boolq" + data + out, "--model is required"},
  };
  for (const auto& c : cases) {
    auto r = run_peft(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.err.find(c.want), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_FALSE(fs::exists(dir / "out")) << c.args;
  }
}

TEST(EvalCli, DefaultHellaswagFileIsMissing) {
  test::TempDir dir;
  setenv("PEFT_SHARED_DIR", PEFT_SHARED_DIR, 1);
  write(dir / "pred.jsonl", "{\"index\": 0, \"output\": \"ending1\"}\n");
  auto r = run_peft("eval --task hellaswag --predictions " + (dir / "pred.jsonl") + " --out " + (dir / "out"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("dataset/hellaswag/test.json: data file not found"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "out"));
}

class EvalStories : public test::StoriesSuite {};

TEST_F(EvalStories, BoolqGenerate) {
  const std::string out = *dir_ / "gen";
  auto r = run_peft("eval --model " + model_ + " --task boolq --limit 3 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("boolq accuracy=", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" n=3\n"), std::string::npos) << r.out;
  auto res = nlohmann::json::parse(test::read_all(out + "/results.json"));
  EXPECT_EQ(res["n"], 3);
  EXPECT_EQ(res["settings"]["max_new_tokens"], 32);
  EXPECT_EQ(res["settings"]["scoring"], "generate");
  EXPECT_LE(res["unparsed"].get<int>(), 3);
  auto preds = read_jsonl(out + "/predictions.jsonl");
  ASSERT_EQ(preds.size(), 3u);
  for (const auto& p : preds) {
    EXPECT_LE(p["generated_tokens"].get<int>(), 32);
    EXPECT_TRUE(p["label"] == "true" || p["label"] == "false");
  }
  // Rescoring the saved outputs reproduces the accuracy.
  auto again = test::rescore("boolq", preds, *dir_ / "saved.jsonl", *dir_ / "re");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, r.out);
}

TEST_F(EvalStories, BoolqLikelihood) {
  const std::string out = *dir_ / "ll";
  auto r = run_peft("eval --model " + model_ + " --task boolq --limit 3 --scoring likelihood --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("boolq accuracy=", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" n=3 accuracy_norm="), std::string::npos) << r.out;
  auto res = nlohmann::json::parse(test::read_all(out + "/results.json"));
  EXPECT_EQ(res["n"], 3);
  EXPECT_TRUE(res.contains("accuracy_norm"));
  auto preds = read_jsonl(out + "/predictions.jsonl");
  ASSERT_EQ(preds.size(), 3u);
  for (const auto& p : preds) {
    ASSERT_EQ(p["scores"].size(), 2u);
    for (const auto& s : p["scores"]) {
      EXPECT_LT(s["logprob"].get<double>(), 0.0);
      EXPECT_GE(s["tokens"].get<int>(), 1);
    }
    EXPECT_EQ(p["output"], "the correct answer is " + p["extracted"].get<std::string>());
  }
}

TEST_F(EvalStories, Perplexity) {
  write(*dir_ / "text.txt", "Once upon a time, there was a little girl.\n\nShe liked to play in the park.\n");
  auto r = run_peft("eval --model " + model_ + " --task perplexity --data " + (*dir_ / "text.txt") + " --out " +
                    (*dir_ / "ppl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("perplexity ppl=", 0), 0u) << r.out;
  auto res = nlohmann::json::parse(test::read_all(*dir_ / "ppl/results.json"));
  EXPECT_EQ(res["n"], 2);
  EXPECT_GT(res["tokens"].get<int>(), 10);
  EXPECT_GT(res["perplexity"].get<double>(), 1.0);
  EXPECT_LT(res["perplexity"].get<double>(), 512.0);  // far better than uniform over 512 tokens
}

}  // namespace
}  // namespace peft

namespace peft {
namespace {

TEST(ReportCli, WritesSelfContainedHtml) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "run<1>");
  std::filesystem::create_directories(dir / "ev");
  write(dir / "run<1>/metrics.jsonl",
        "{\"step\":1,\"loss\":4.5}\n{\"step\":2,\"loss\":3.0}\n{\"step\":3,\"loss\":2.5,\"val_loss\":2.75}\n");
  write(dir / "ev/results.json", R"({"task": "boolq", "n": 3, "accuracy": 0.6667, "unparsed": 0})");
  auto r = run_peft("report '" + (dir / "run<1>") + "' " + (dir / "ev") + " --out " + (dir / "report.html"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = test::read_all(dir / "report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("<polyline"), std::string::npos);
  EXPECT_NE(html.find("<circle"), std::string::npos);
  EXPECT_NE(html.find("run&lt;1&gt;"), std::string::npos);
  EXPECT_NE(html.find("<td>boolq</td>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);  // nothing fetched from anywhere

  auto bad = run_peft("report " + (dir / "nothing") + " --out " + (dir / "r2.html"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("no metrics.jsonl or results.json"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "r2.html"));
}

}  // namespace
}  // namespace peft

namespace peft {
namespace {

TEST_F(EvalStories, BoolqBeamSearch) {
  const std::string out = *dir_ / "beam";
  auto r = run_peft("eval --model " + model_ + " --task boolq --limit 2 --num-beams 4 --max-new-tokens 8 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(" n=2\n"), std::string::npos) << r.out;
  auto res = nlohmann::json::parse(test::read_all(out + "/results.json"));
  EXPECT_EQ(res["settings"]["num_beams"], 4);
  EXPECT_EQ(res["settings"]["decoding"], "beam search");
  for (const auto& p : read_jsonl(out + "/predictions.jsonl")) EXPECT_LE(p["generated_tokens"].get<int>(), 8);
}

}  // namespace
}  // namespace peft
