// GLUE / E2E scoring of saved outputs: hand-made files, and the real dev files via the CLI.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"
#include "eval/reference_tasks.h"

namespace peft {
namespace {

using Outputs = std::vector<std::pair<int64_t, std::string>>;

Json score(const char* task, const std::string& path, const Outputs& outs) {
  auto r = score_reference_task(task, path, outs);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? r->results : Json();
}

TEST(EvalReference, GlueClassification) {
  test::TempDir dir;
  std::ofstream(dir / "sst2.tsv") << "sentence\tlabel\na\t1\nb\t0\nc\t1\nd\t0\n";
  Json r = score("sst2", dir / "sst2.tsv", {{0, "1"}, {1, " 0\n"}, {2, "0"}, {3, "maybe"}});
  EXPECT_DOUBLE_EQ(r["accuracy"].get<double>(), 0.5);
  EXPECT_EQ(r["unparsed"], 1);
  EXPECT_EQ(summary_line(r), "sst2 accuracy=0.5000 n=4");

  std::ofstream(dir / "cola.tsv") << "s\t1\t\tx\ns\t1\t\ty\ns\t0\t*\tz\ns\t0\t*\tw\n";
  r = score("cola", dir / "cola.tsv", {{0, "1"}, {1, "0"}, {2, "0"}, {3, "0"}});
  EXPECT_DOUBLE_EQ(r["accuracy"].get<double>(), 0.75);
  EXPECT_NEAR(r["matthews"].get<double>(), 2.0 / std::sqrt(12.0), 1e-12);

  std::ofstream(dir / "rte.tsv")
      << "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\tc\td\tnot_entailment\n";
  r = score("rte", dir / "rte.tsv", {{0, "entailment"}, {1, "0"}});
  EXPECT_DOUBLE_EQ(r["accuracy"].get<double>(), 0.5);
  EXPECT_EQ(load_reference_items("rte", dir / "rte.tsv").value().size(), 2u);
}

TEST(EvalReference, StsbAndE2e) {
  test::TempDir dir;
  std::ofstream(dir / "stsb.tsv") << "index\tg\tf\ty\to\ts1\ts2\tsentence1\tsentence2\tscore\n"
                                  << "0\tg\tf\ty\to\tn\tn\ta\tb\t1.0\n1\tg\tf\ty\to\tn\tn\ta\tb\t2.0\n"
                                  << "2\tg\tf\ty\to\tn\tn\ta\tb\t3.0\n";
  Json r = score("stsb", dir / "stsb.tsv", {{0, "0.5"}, {1, "2.5"}, {2, "2.0"}});
  EXPECT_NEAR(r["spearman"].get<double>(), 0.5, 1e-12);
  EXPECT_GT(r["pearson"].get<double>(), 0.0);

  std::ofstream(dir / "e2e.txt") << "name : A||A is a pub in the centre .\nname : A||There is a pub called A .\n"
                                 << "name : B||B serves cheap food near the river .\n";
  EXPECT_EQ(load_reference_items("e2e", dir / "e2e.txt").value().size(), 2u);
  r = score("e2e", dir / "e2e.txt", {{0, "There is a pub called A ."}, {1, "B serves cheap food near the river ."}});
  EXPECT_NEAR(r["bleu"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(r["rouge_l"].get<double>(), 1.0, 1e-12);
  r = score("e2e", dir / "e2e.txt", {{0, "A pub ."}});
  EXPECT_LT(r["rouge_l"].get<double>(), 1.0);
  EXPECT_FALSE(score_reference_task("e2e", dir / "missing.txt", {}).is_ok());
}

TEST(EvalReference, CliOnTheRealDevFiles) {
  test::TempDir dir;
  setenv("PEFT_SHARED_DIR", PEFT_SHARED_DIR, 1);
  std::ofstream(dir / "p.jsonl") << "{\"index\": 0, \"output\": \"1\"}\n{\"index\": 1, \"output\": \"0\"}\n";
  auto r = test::run_peft("eval --task sst2 --predictions " + (dir / "p.jsonl") + " --out " + (dir / "o"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "sst2 accuracy=1.0000 n=2\n");  // dev rows 0 and 1 are labelled 1 and 0
  auto res = nlohmann::json::parse(test::read_all(dir / "o/results.json"));
  EXPECT_EQ(res["n"], 2);

  auto e = test::run_peft("eval --task e2e --predictions " + (dir / "p.jsonl") + " --out " + (dir / "e"));
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(e.out.rfind("e2e bleu=", 0), 0u) << e.out;

  std::ofstream(dir / "far.jsonl") << "{\"index\": 100000, \"output\": \"1\"}\n";
  auto bad = test::run_peft("eval --task stsb --predictions " + (dir / "far.jsonl") + " --out " + (dir / "b"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("index 100000 is out of range"), std::string::npos) << bad.err;
  auto nomodel = test::run_peft("eval --task cola --model " + (dir / "x") + " --out " + (dir / "b"));
  EXPECT_NE(nomodel.exit_code, 0);
  EXPECT_NE(nomodel.err.find(dir / "x"), std::string::npos) << nomodel.err;
  auto ll = test::run_peft("eval --task stsb --model x --scoring likelihood --out " + (dir / "b"));
  EXPECT_NE(ll.exit_code, 0);
  EXPECT_NE(ll.err.find("needs a classification task (sst2, cola, rte), not 'stsb'"), std::string::npos) << ll.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "b"));
}

}  // namespace
}  // namespace peft
