// The report page: learning-rate and tokens/s charts from metrics.jsonl, a bar chart of each
// task's main metric across runs, methods read from adapter configs, round axis ticks.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli/cli_runner.h"
#include "eval/report.h"

namespace peft {
namespace {

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(Report, ChartsForLossLearningRateThroughputAndEvalBars) {
  test::TempDir dir;
  namespace fs = std::filesystem;
  for (const char* d : {"train", "ev-base", "ev-lora", "ev-cola", "ppl"}) fs::create_directories(dir / d);
  write(dir / "train/metrics.jsonl",
        "{\"step\":1,\"loss\":4.5,\"lr\":0.0001,\"tokens_per_s\":800}\n"
        "{\"step\":2,\"loss\":3.0,\"lr\":0.0002,\"tokens_per_s\":950}\n"
        "{\"step\":3,\"loss\":2.5,\"lr\":0.0003,\"tokens_per_s\":1000,\"val_loss\":2.75}\n");
  write(dir / "train/adapter_config.json", R"({"peft_type": "LORA", "r": 8})");
  write(dir / "ev-base/results.json", R"({"task": "boolq", "n": 3, "accuracy": 0.5, "settings": {"adapter": ""}})");
  write(dir / "ev-lora/results.json",
        R"({"task": "boolq", "n": 3, "accuracy": 0.75, "settings": {"adapter": ")" + (dir / "train") + "\"}}");
  write(dir / "ev-cola/results.json", R"({"task": "cola", "n": 9, "accuracy": 0.7, "matthews": -0.2})");
  write(dir / "ppl/results.json", R"({"task": "perplexity", "n": 2, "perplexity": 12.5})");

  std::vector<RunData> runs;
  for (const char* d : {"train", "ev-base", "ev-lora", "ev-cola", "ppl"}) {
    auto r = load_run(dir / d);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    runs.push_back(std::move(*r));
  }
  EXPECT_EQ(runs[0].method, "lora");
  EXPECT_EQ(runs[0].lr.size(), 3u);
  EXPECT_EQ(runs[0].tokens_per_s.size(), 3u);
  EXPECT_EQ(runs[0].tokens_per_s.back().second, 1000);
  EXPECT_EQ(runs[1].method, "base");
  EXPECT_EQ(runs[2].method, "lora");  // the adapter its results.json names
  EXPECT_EQ(runs[3].method, "");
  EXPECT_EQ(main_metric(runs[3].results[0]), "matthews");
  EXPECT_EQ(main_metric(runs[4].results[0]), "");

  const std::string html = render_report(runs);
  EXPECT_EQ(count(html, "<svg"), 4u);  // loss, learning rate, tokens/s, eval bars
  EXPECT_EQ(count(html, "<polyline"), 3u);
  EXPECT_EQ(count(html, "<circle"), 1u);
  EXPECT_NE(html.find("learning rate</text>"), std::string::npos);
  EXPECT_NE(html.find("tokens/s</text>"), std::string::npos);
  // One bar per result with a main metric (not perplexity), grouped by task, labelled by method.
  EXPECT_EQ(count(html, "</title></rect>"), 3u);
  EXPECT_NE(html.find(">boolq (accuracy)</text>"), std::string::npos);
  EXPECT_NE(html.find(">cola (matthews)</text>"), std::string::npos);
  EXPECT_NE(html.find((dir / "ev-lora") + " (lora): 0.75</title>"), std::string::npos);
  EXPECT_NE(html.find(">-0.5</text>"), std::string::npos);  // a negative MCC widens the axis
  // Round ticks: the learning rate axis runs 0 .. 0.0003 in steps of 0.0001.
  EXPECT_NE(html.find(">0.0003</text>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);

  // Runs without learning rates or eval results get a note instead of an empty chart.
  const std::string bare = render_report({runs[4]});
  EXPECT_NE(bare.find("No learning-rate values in metrics.jsonl."), std::string::npos);
  EXPECT_NE(bare.find("No eval results with an accuracy or task metric."), std::string::npos);
  EXPECT_EQ(count(bare, "<svg"), 0u);
}

TEST(Report, NiceTicksAndEscaping) {
  LineSeries s{"a<b", chart_color(0), {{0, 0.1}, {1000, 0.7}}, {}};
  const std::string svg = line_chart({s}, "step", "loss", "none");
  EXPECT_NE(svg.find("a&lt;b"), std::string::npos);
  for (const char* tick : {">0.2</text>", ">0.4</text>", ">0.6</text>", ">200</text>", ">1000</text>"})
    EXPECT_NE(svg.find(tick), std::string::npos) << tick;
  EXPECT_EQ(line_chart({}, "step", "loss", "nothing here"), "<p>nothing here</p>\n");
  // Large round ticks print in full, not as 4e+04.
  const std::string tps =
      line_chart({{"r", chart_color(1), {{1, 33000}, {2, 38000}}, {}}}, "step", "tokens/s", "", true);
  EXPECT_NE(tps.find(">40000</text>"), std::string::npos);
  EXPECT_EQ(tps.find("e+04"), std::string::npos);
}

}  // namespace
}  // namespace peft
