// peft eval --task sst2|e2e on stories260K (generation and likelihood), and peft train
// --data-format glue feeding an adapter to peft eval on the same verbaliser prompts.
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
using nlohmann::json;

class VerbalCli : public test::StoriesSuite {
 protected:
  // `peft eval --model M ARGS --out OUT` must succeed with a summary line starting with
  // `start` and a results.json holding `keys`; returns that results.json and the summary line.
  static json eval_ok(const std::string& args, const std::string& out, const std::string& start,
                      std::initializer_list<const char*> keys, std::string& summary) {
    auto r = run_peft("eval --model " + model_ + " " + args + " --out " + out);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind(start, 0), 0u) << r.out;
    summary = r.out;
    auto res = json::parse(test::read_all(out + "/results.json"));
    for (const char* k : keys) EXPECT_TRUE(res.contains(k)) << k;
    return res;
  }
};

TEST_F(VerbalCli, Sst2GenerateOnTheDevSet) {
  const std::string out = *dir_ / "sst2";
  std::string line;
  auto res =
      eval_ok("--task sst2 --limit 5", out,
              "sst2 accuracy=", {"task", "n", "accuracy", "unparsed", "hit_limit", "truncated", "settings"}, line);
  EXPECT_NE(line.find(" n=5\n"), std::string::npos) << line;
  EXPECT_EQ(res["n"], 5);
  EXPECT_EQ(res["settings"]["max_new_tokens"], 8);
  EXPECT_TRUE(res["settings"]["data"].get<std::string>().ends_with("glue/SST-2/dev.tsv"));
  auto preds = read_jsonl(out + "/predictions.jsonl");
  ASSERT_EQ(preds.size(), 5u);
  EXPECT_EQ(preds[0]["label"], "positive");  // dev row 1: "it 's a charming and often affecting journey ."
  EXPECT_EQ(preds[1]["label"], "negative");
  for (const auto& p : preds) {
    EXPECT_LE(p["generated_tokens"].get<int>(), 8);
    const std::string prompt = p["prompt"];
    EXPECT_TRUE(prompt.ends_with("### Response:\n                ")) << prompt;
    EXPECT_NE(prompt.find("positive or negative"), std::string::npos) << prompt;
  }
  EXPECT_NE(preds[0]["prompt"].get<std::string>().find("it 's a charming and often affecting journey ."),
            std::string::npos);
  // The saved outputs rescore to the same line.
  auto again = test::rescore("sst2", preds, *dir_ / "sst2.jsonl", *dir_ / "re");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, line);
}

TEST_F(VerbalCli, E2eGenerateOnTheTestSet) {
  const std::string out = *dir_ / "e2e";
  std::string line;
  auto res = eval_ok("--task e2e --limit 3", out,
                     "e2e bleu=", {"bleu", "nist", "rouge_l", "cider", "n", "hit_limit", "truncated"}, line);
  EXPECT_NE(line.find(" n=3 nist="), std::string::npos) << line;
  EXPECT_NE(line.find(" cider="), std::string::npos) << line;
  EXPECT_EQ(res["n"], 3);
  EXPECT_EQ(res["settings"]["max_new_tokens"], 64);
  EXPECT_TRUE(res["settings"]["data"].get<std::string>().ends_with("e2e/test.txt"));
  auto preds = read_jsonl(out + "/predictions.jsonl");
  ASSERT_EQ(preds.size(), 3u);
  // test.txt's first meaning representation has several references, all scored against.
  EXPECT_GE(preds[0]["label"].size(), 2u);
  EXPECT_NE(preds[0]["prompt"].get<std::string>().find("name : Blue Spice | Type : coffee shop | area : city centre"),
            std::string::npos);
  for (const auto& p : preds) EXPECT_EQ(p["output"].get<std::string>().find('\n'), std::string::npos);
}

// AdaMix's other NLG sets: train on DART JSON, then generate and score grouped references.
TEST_F(VerbalCli, TrainAndEvaluateOnDartAndWebnlg) {
  const std::string dart = *dir_ / "dart.json";
  std::ofstream(dart) << R"([
    {"tripleset": [["Mars Hill College", "JOINED", "1973"]], "annotations": [{"text": "Mars Hill College joined in 1973."},
                                                                         {"text": "It joined in 1973."}]},
    {"tripleset": [["Hawaii", "CAPITAL", "Honolulu"]], "annotations": [{"text": "Honolulu is the capital of Hawaii."}]}
  ])";
  const std::string adapter = *dir_ / "dart-lora";
  auto t = run_peft("train --model " + model_ + " --data " + dart + " --data-format dart --output " + adapter +
                    " --max-steps 1 --batch-size 2 --micro-batch-size 2 --val-set-size 0 --warmup-steps 0");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  std::string line;
  auto res = eval_ok("--task dart --data " + dart + " --adapter " + adapter + " --max-new-tokens 4",
                     *dir_ / "dart-eval", "dart bleu=", {"bleu", "nist", "rouge_l", "cider", "n"}, line);
  EXPECT_EQ(res["n"], 2);  // two inputs, the first with two references
  auto preds = read_jsonl(*dir_ / "dart-eval/predictions.jsonl");
  ASSERT_EQ(preds.size(), 2u);
  EXPECT_EQ(preds[0]["label"].size(), 2u);
  EXPECT_NE(preds[0]["prompt"].get<std::string>().find("Mars Hill College : joined : 1973"), std::string::npos);
  const std::string webnlg = *dir_ / "webnlg.json";
  std::ofstream(webnlg) << R"({"entries": [{"1": {"category": "Food", "modifiedtripleset": [
      {"subject": "Bakso", "property": "country", "object": "Indonesia"}],
      "lexicalisations": [{"comment": "good", "lex": "Bakso comes from Indonesia."}]}}]})";
  auto w = eval_ok("--task webnlg --data " + webnlg + " --max-new-tokens 4", *dir_ / "webnlg-eval",
                   "webnlg bleu=", {"bleu", "n"}, line);
  EXPECT_EQ(w["n"], 1);
}

TEST_F(VerbalCli, Sst2Likelihood) {
  const std::string out = *dir_ / "ll";
  std::string line;
  eval_ok("--task sst2 --limit 3 --scoring likelihood", out, "sst2 accuracy=", {"accuracy", "accuracy_norm"}, line);
  EXPECT_NE(line.find(" n=3 accuracy_norm="), std::string::npos) << line;
  auto preds = read_jsonl(out + "/predictions.jsonl");
  ASSERT_EQ(preds.size(), 3u);
  for (const auto& p : preds) {
    ASSERT_EQ(p["scores"].size(), 2u);
    EXPECT_TRUE(p["output"] == "negative" || p["output"] == "positive") << p;
    EXPECT_EQ(p["extracted"], p["output"]);
  }
}

TEST_F(VerbalCli, TrainOnAGlueTsvThenEvaluateTheAdapter) {
  std::ofstream tsv(*dir_ / "small.tsv");
  tsv << "sentence\tlabel\n";
  for (int i = 0; i < 12; ++i)
    tsv << (i % 2 ? "a lovely , warm film " : "a dull , tired mess ") << i << "\t" << i % 2 << "\n";
  tsv.close();
  const std::string run = *dir_ / "run";
  auto t = run_peft("train --model " + model_ + " --data " + (*dir_ / "small.tsv") + " --data-format glue --output " +
                    run + " --max-steps 2 --batch-size 4 --micro-batch-size 4 --val-set-size 2 --lora-r 4");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_TRUE(fs::exists(run + "/adapter_model.safetensors"));
  auto e = run_peft("eval --model " + model_ + " --adapter " + run + " --task sst2 --data " + (*dir_ / "small.tsv") +
                    " --limit 4 --out " + (*dir_ / "adapted"));
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find(" n=4\n"), std::string::npos) << e.out;

  std::ofstream(*dir_ / "bad.tsv") << "sentence\tlabel\ngood\t1\nbad\tnegative\n";
  auto bad = run_peft("train --model " + model_ + " --data " + (*dir_ / "bad.tsv") + " --data-format glue --output " +
                      (*dir_ / "badrun") + " --max-steps 1 --val-set-size 0");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("bad.tsv: line 3: label 'negative' is not one of sst2's labels (0, 1)"), std::string::npos)
      << bad.err;
  EXPECT_FALSE(fs::exists(*dir_ / "badrun/adapter_model.safetensors"));
  auto wrong = run_peft("eval --model " + model_ + " --task rte --data " + (*dir_ / "small.tsv") + " --out " +
                        (*dir_ / "wrong"));
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("small.tsv: line 1: this is a sst2 file (by its layout), not rte"), std::string::npos)
      << wrong.err;
}

}  // namespace
}  // namespace peft
