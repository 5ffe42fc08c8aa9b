// GLUE TSV / E2E parsing: layout detection, records, every bad-input message, the real files.
#include <gtest/gtest.h>

#include "data/dataset.h"
#include "data/glue_e2e.h"
#include "test_paths.h"

namespace peft {
namespace {

std::string glue_error(const std::string& text, std::string_view expect = {}) {
  auto r = parse_glue_tsv(text, "g.tsv", expect);
  EXPECT_FALSE(r.is_ok()) << text;
  return r.is_ok() ? "" : r.status().message();
}

TEST(GlueE2e, DetectsEachGlueLayout) {
  auto sst2 = parse_glue_tsv("sentence\tlabel\nfine film \t1\r\ndull\t0\n\n", "s.tsv");
  ASSERT_TRUE(sst2.is_ok()) << sst2.status().message();
  EXPECT_EQ(sst2->task->name, "sst2");
  ASSERT_EQ(sst2->rows.size(), 2u);
  EXPECT_EQ(sst2->rows[0].input, "fine film");
  EXPECT_EQ(sst2->rows[0].label, 1);
  EXPECT_EQ(sst2->rows[1].line, 3);

  auto cola = parse_glue_tsv("gj04\t1\t\tThe cat sat.\ngj04\t0\t*\tCat the sat.\n", "c.tsv");
  ASSERT_TRUE(cola.is_ok()) << cola.status().message();
  EXPECT_EQ(cola->task->name, "cola");
  EXPECT_EQ(cola->rows[1].input, "Cat the sat.");
  EXPECT_EQ(cola->rows[1].label, 0);
  EXPECT_EQ(cola->rows[0].line, 1);  // no header

  auto rte = parse_glue_tsv("index\tsentence1\tsentence2\tlabel\n0\tA b.\tC d.\tnot_entailment\n", "r.tsv", "rte");
  ASSERT_TRUE(rte.is_ok()) << rte.status().message();
  EXPECT_EQ(rte->rows[0].input, "Premise: A b.\nHypothesis: C d.");
  EXPECT_EQ(rte->rows[0].label, 1);

  auto stsb = parse_glue_tsv("index\tgenre\tsentence1\tsentence2\tscore\n0\tg\ta\tb\t3.800\n", "b.tsv");
  ASSERT_TRUE(stsb.is_ok()) << stsb.status().message();
  EXPECT_EQ(stsb->task->name, "stsb");
  EXPECT_DOUBLE_EQ(stsb->rows[0].label, 3.8);
}

TEST(GlueE2e, GlueErrorsNameFileAndLine) {
  EXPECT_EQ(glue_error(""), "g.tsv: no records (the file is empty)");
  EXPECT_EQ(glue_error("sentence\tlabel\n"), "g.tsv: no records (only a header)");
  EXPECT_EQ(glue_error("index\tsentence\n0\tx\n"),
            "g.tsv: line 1: the header has no 'label' or 'score' column (GLUE test files are unlabelled: use "
            "train.tsv or dev.tsv)");
  EXPECT_NE(glue_error("a\tb\tc\n").find("g.tsv: line 1: not a GLUE layout"), std::string::npos);
  EXPECT_EQ(glue_error("sentence\tlabel\na\t1\nb\t2\n"), "g.tsv: line 3: label '2' is not one of sst2's labels (0, 1)");
  EXPECT_EQ(glue_error("sentence\tlabel\na\t1\nb\n"), "g.tsv: line 3: expected 2 tab-separated columns, found 1");
  EXPECT_EQ(glue_error("index\tsentence1\tsentence2\tlabel\n0\ta\tb\tneutral\n"),
            "g.tsv: line 2: label 'neutral' is not one of rte's labels (entailment, not_entailment)");
  EXPECT_EQ(glue_error("index\tsentence1\tsentence2\tscore\n0\ta\tb\t5.5\n"),
            "g.tsv: line 2: score '5.5' is not a number in [0, 5]");
  EXPECT_EQ(glue_error("index\tsentence1\tsentence2\tgold_label\n0\ta\tb\tyes\n"),
            "g.tsv: line 2: label 'yes' is not one of mnli's labels (entailment, neutral, contradiction)");
  EXPECT_EQ(glue_error("id\tqid1\tqid2\tquestion1\tquestion2\n0\t1\t2\ta\tb\n"),
            "g.tsv: line 1: a QQP header without 'is_duplicate' (GLUE test files are unlabelled)");
  EXPECT_EQ(glue_error("sentence\tlabel\na\t1\n", "rte"),
            "g.tsv: line 1: this is a sst2 file (by its layout), not rte");
}

TEST(GlueE2e, E2eLinesAndErrors) {
  auto e = parse_e2e_lines("name : A | food : Thai||A serves Thai food . \n\nname : B||B is a pub .\n", "e.txt");
  ASSERT_TRUE(e.is_ok()) << e.status().message();
  ASSERT_EQ(e->rows.size(), 2u);
  EXPECT_EQ(e->rows[0].input, "name : A | food : Thai");
  EXPECT_EQ(e->rows[0].reference, "A serves Thai food .");
  EXPECT_EQ(e->rows[1].line, 3);
  auto bad = parse_e2e_lines("name : A||ok\nname : B, no separator\n", "e.txt");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message(), "e.txt: line 2: expected 'MR||reference'");
  auto empty = parse_e2e_lines("name : A||  \n", "e.txt");
  ASSERT_FALSE(empty.is_ok());
  EXPECT_EQ(empty.status().message(), "e.txt: line 1: empty meaning representation or reference around '||'");
  EXPECT_FALSE(parse_e2e_lines("\n\n", "e.txt").is_ok());
}

TEST(GlueE2e, DataFormatsGiveVerbalisedRecords) {
  EXPECT_EQ(parse_data_format("glue").value(), DataFormat::Glue);
  EXPECT_EQ(parse_data_format("e2e").value(), DataFormat::E2e);
  EXPECT_STREQ(data_format_name(DataFormat::Glue), "glue");
  EXPECT_STREQ(data_format_name(DataFormat::E2e), "e2e");
  auto g = parse_dataset("sentence\tlabel\ngood\t1\nbad\t0\n", "s.tsv", DataFormat::Glue);
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  ASSERT_EQ(g->size(), 2u);
  EXPECT_EQ((*g)[0].kind, RecordKind::Instruction);
  EXPECT_EQ((*g)[0].instruction, find_verbal_task("sst2")->instruction);
  EXPECT_EQ((*g)[0].input, "good");
  EXPECT_EQ((*g)[0].output, "positive");
  EXPECT_EQ((*g)[1].output, "negative");
  EXPECT_EQ((*g)[1].where, "s.tsv: line 3");
  auto e = parse_dataset("name : A||A is a pub .\n", "e.txt", DataFormat::E2e);
  ASSERT_TRUE(e.is_ok()) << e.status().message();
  EXPECT_EQ((*e)[0].input, "name : A");
  EXPECT_EQ((*e)[0].output, "A is a pub .");
  auto bad = parse_dataset("sentence\tlabel\ngood\tyes\n", "s.tsv", DataFormat::Glue);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message(), "s.tsv: line 2: label 'yes' is not one of sst2's labels (0, 1)");
}

TEST(GlueE2e, TheRealFiles) {
  struct Case {
    const char* task;
    const char* file;
    size_t rows;
  };
  for (const Case& c : {Case{"sst2", "glue/SST-2/dev.tsv", 872}, Case{"cola", "glue/CoLA/dev.tsv", 1043},
                        Case{"rte", "glue/RTE/dev.tsv", 277}, Case{"stsb", "glue/STS-B/dev.tsv", 1500},
                        Case{"sst2", "glue/SST-2/train.tsv", 67349}, Case{"e2e", "e2e/test.txt", 4693}}) {
    auto f = load_verbal_file(c.task, test::shared_path(std::string("data/datasets/") + c.file));
    ASSERT_TRUE(f.is_ok()) << f.status().message();
    EXPECT_EQ(f->task->name, c.task);
    EXPECT_EQ(f->rows.size(), c.rows) << c.file;
  }
  auto test_file = load_verbal_file("sst2", test::shared_path("data/datasets/glue/SST-2/test.tsv"));
  ASSERT_FALSE(test_file.is_ok());
  EXPECT_NE(test_file.status().message().find("test.tsv: line 1: the header has no 'label'"), std::string::npos);
}

// The nine GLUE layouts as download_glue_data.py writes them, told apart by their headers
// (RTE and WNLI by the first row's label).
TEST(GlueE2e, EveryGlueLayoutIsDetected) {
  struct Row {
    const char* content;
    const char* task;
    const char* a;
    const char* b;
    double label;
  };
  const Row rows[] = {
      {"sentence\tlabel\nnice film\t1\n", "sst2", "nice film", "", 1},
      {"gj04\t0\t*\tthey drank the pub\n", "cola", "they drank the pub", "", 0},
      {"index\tsentence1\tsentence2\tlabel\n0\tp\th\tnot_entailment\n", "rte", "p", "h", 1},
      {"index\tsentence1\tsentence2\tlabel\n0\tp\th\t1\n", "wnli", "p", "h", 1},
      {"index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
       "0\tmain\tf\t2012\t1\tnone\tnone\ta\tb\t3.8\n",
       "stsb", "a", "b", 3.8},
      {"Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t7\t8\tx\ty\n", "mrpc", "x", "y", 1},
      {"id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n0\t1\t2\tq?\tr?\t0\n", "qqp", "q?", "r?", 0},
      {"index\tquestion\tsentence\tlabel\n0\twho?\tshe.\tentailment\n", "qnli", "who?", "she.", 0},
      {"index\tpromptID\tpairID\tgenre\tsentence1\tsentence2\tlabel1\tgold_label\n"
       "0\t1\t1e\tgov\tp\th\tneutral\tneutral\n",
       "mnli", "p", "h", 1},
  };
  for (const Row& r : rows) {
    auto f = parse_glue_tsv(r.content, "g.tsv");
    ASSERT_TRUE(f.is_ok()) << r.task << ": " << f.status().message();
    EXPECT_EQ(f->task->name, r.task);
    ASSERT_EQ(f->rows.size(), 1u) << r.task;
    EXPECT_EQ(f->rows[0].text_a, r.a) << r.task;
    EXPECT_EQ(f->rows[0].text_b, r.b) << r.task;
    EXPECT_EQ(f->rows[0].label, r.label) << r.task;
  }
}

}  // namespace
}  // namespace peft
