// GLUE / E2E verbalisers: label → output → label round trips, reading hand-written outputs,
// and the train/eval prompt agreement.
#include <gtest/gtest.h>

#include "data/prompt.h"
#include "data/verbalisers.h"

namespace peft {
namespace {

const VerbalTask& task(const char* name) {
  const VerbalTask* t = find_verbal_task(name);
  EXPECT_NE(t, nullptr) << name;
  return *t;
}

TEST(Verbalisers, TableAndDefaults) {
  EXPECT_EQ(verbal_task_names(), "sst2, cola, rte, stsb, mrpc, qqp, qnli, mnli, wnli, e2e, webnlg, dart");
  EXPECT_EQ(find_verbal_task("boolq"), nullptr);
  EXPECT_EQ(task("sst2").words, (std::vector<std::string>{"negative", "positive"}));
  EXPECT_EQ(task("cola").words, (std::vector<std::string>{"unacceptable", "acceptable"}));
  EXPECT_EQ(task("rte").words, (std::vector<std::string>{"yes", "no"}));
  EXPECT_EQ(task("rte").label_names, (std::vector<std::string>{"entailment", "not_entailment"}));
  for (const char* n : {"sst2", "cola", "rte", "stsb"}) EXPECT_EQ(task(n).default_max_new_tokens, 8) << n;
  EXPECT_EQ(task("e2e").default_max_new_tokens, 64);
}

TEST(Verbalisers, ClassRoundTrip) {
  for (const char* n : {"sst2", "cola", "rte"}) {
    for (int label : {0, 1}) {
      const std::string out = verbalise_label(task(n), label);
      EXPECT_EQ(parse_class_output(task(n), out), label) << n << " " << out;
      // As a model would print it: capitalised, after the response indent, with more to follow.
      std::string shouted = "                " + out + ".\nThe end";
      shouted[16] = char(std::toupper(shouted[16]));
      EXPECT_EQ(parse_class_output(task(n), first_response_line(shouted)), label) << n << " " << shouted;
    }
  }
}

TEST(Verbalisers, ScoreRoundTrip) {
  for (double label : {0.0, 0.2, 1.0, 2.5, 3.8, 4.75, 5.0}) {
    const std::string out = verbalise_label(task("stsb"), label);
    ASSERT_TRUE(parse_score_output(out).has_value()) << out;
    EXPECT_NEAR(*parse_score_output(out), label, 0.05 + 1e-12) << out;
  }
  EXPECT_EQ(verbalise_label(task("stsb"), 3.8), "3.8");
  EXPECT_EQ(verbalise_label(task("stsb"), 5.0), "5.0");
}

TEST(Verbalisers, ReadsHandWrittenOutputs) {
  const VerbalTask &sst2 = task("sst2"), &cola = task("cola"), &rte = task("rte");
  EXPECT_EQ(parse_class_output(sst2, "It is POSITIVE, not negative"), 1);  // the earliest word wins
  EXPECT_EQ(parse_class_output(sst2, "negative-ish, maybe positive"), 0);
  EXPECT_EQ(parse_class_output(sst2, "Once upon a time"), -1);
  EXPECT_EQ(parse_class_output(sst2, "1"), 1);  // a saved label id
  EXPECT_EQ(parse_class_output(sst2, " 0\n"), 0);
  EXPECT_EQ(parse_class_output(sst2, "positively"), -1);   // whole words only
  EXPECT_EQ(parse_class_output(cola, "unacceptable"), 0);  // "acceptable" inside it does not count
  EXPECT_EQ(parse_class_output(cola, "Acceptable."), 1);
  EXPECT_EQ(parse_class_output(rte, "not_entailment"), 1);  // a saved label name
  EXPECT_EQ(parse_class_output(rte, "entailment"), 0);
  EXPECT_EQ(parse_class_output(rte, "I do not know"), -1);  // "no" inside "not", "know": no match
  EXPECT_EQ(parse_class_output(rte, "No, it does not."), 1);
  EXPECT_EQ(parse_class_output(rte, "Yes!"), 0);

  EXPECT_DOUBLE_EQ(parse_score_output("about 3.5 out of 5").value(), 3.5);
  EXPECT_DOUBLE_EQ(parse_score_output("7").value(), 5.0);     // clamped
  EXPECT_DOUBLE_EQ(parse_score_output("-2.0").value(), 0.0);  // clamped
  EXPECT_FALSE(parse_score_output("very similar").has_value());
}

TEST(Verbalisers, FirstResponseLine) {
  EXPECT_EQ(first_response_line("                positive\n                ### Instruction:\nx"), "positive");
  EXPECT_EQ(first_response_line("\n\n  A pub .  ### Response: more"), "A pub .");
  EXPECT_EQ(first_response_line("   "), "");
}

TEST(Verbalisers, EvalPromptIsTheTrainingPromptUpToTheOutput) {
  const VerbalTask& rte = task("rte");
  const std::string input = verbal_input(rte, " A cat sat. ", "A cat is sitting.");
  EXPECT_EQ(input, "Premise: A cat sat.\nHypothesis: A cat is sitting.");
  const Record train = verbal_record(rte, input, verbalise_label(rte, 0), "f: line 2");
  const std::string full = record_prompt(train), user = record_user_prompt(verbal_record(rte, input, "", ""));
  EXPECT_EQ(full, user + "yes");
  EXPECT_EQ(train.where, "f: line 2");
  EXPECT_NE(user.find("### Instruction:\n                " + rte.instruction), std::string::npos);
  EXPECT_TRUE(user.ends_with("### Response:\n                "));
  EXPECT_EQ(verbal_input(task("stsb"), "a", "b"), "Sentence 1: a\nSentence 2: b");
  EXPECT_EQ(verbal_input(task("sst2"), "hide new secretions "), "hide new secretions");
}

}  // namespace
}  // namespace peft
