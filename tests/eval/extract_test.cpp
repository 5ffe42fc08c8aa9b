// LLM-Adapters' answer-extraction rules on hand-written outputs.
#include <gtest/gtest.h>

#include "eval/extract.h"
#include "eval/likelihood.h"
#include "eval/tasks.h"

namespace peft {
namespace {

EvalTask task(const char* name) {
  auto t = find_eval_task(name);
  EXPECT_TRUE(t.is_ok()) << t.status().message();
  return *t;
}

Extraction score(const char* name, const char* output, const char* label) {
  auto r = score_output(task(name), output, label);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return *r;
}

TEST(EvalExtract, FindNumbersIsPythonFindall) {
  EXPECT_EQ(find_numbers("a 12 b -3.5 c 7. d .5 e 1.2.3 f --4"),
            (std::vector<std::string>{"12", "-3.5", "7.", "5", "1.2", "3", "-4"}));
  EXPECT_TRUE(find_numbers("no digits here").empty());
}

TEST(EvalExtract, MathLastNumberAfterRemovingCommas) {
  auto e = score("gsm8k", "He has 3 apples, then 1,234 more. The answer is 1,237.", "1237.0");
  EXPECT_TRUE(e.parsed);
  EXPECT_EQ(e.extracted, "1237.");  // the trailing '.' is part of the match, as in Python
  EXPECT_TRUE(e.correct);
  EXPECT_FALSE(score("gsm8k", "The answer is 1236", "1237.0").correct);
}

TEST(EvalExtract, MathNegativeAndDecimal) {
  EXPECT_TRUE(score("mawps", "The answer is -15.", "-15.0").correct);
  EXPECT_FALSE(score("mawps", "The answer is 15.", "-15.0").correct);
  EXPECT_TRUE(score("addsub", "about 0.6667", "0.6666666666666666").correct);  // |diff| <= 0.001
  EXPECT_FALSE(score("addsub", "about 0.667", "0.6656666666666666").correct);
  EXPECT_TRUE(score("svamp", "5 - 3 = 2.0", "2").correct);
}

TEST(EvalExtract, MathNoNumberIsUnparsedAndWrong) {
  auto e = score("multiarith", "I do not know.", "3.0");
  EXPECT_FALSE(e.parsed);
  EXPECT_FALSE(e.correct);
  EXPECT_EQ(e.extracted, "");
  EXPECT_FALSE(score_output(task("gsm8k"), "1", "three").is_ok());  // a label that is not a number
}

TEST(EvalExtract, AquaFirstCapitalLetterAToE) {
  EXPECT_EQ(extract_letter("The answer is (C)."), "C");   // 'T' is not in A-E
  EXPECT_EQ(extract_letter("Answer: (D)"), "A");          // their rule: the first A-E anywhere
  EXPECT_EQ(extract_letter("  so it is b or (E)"), "E");  // lowercase does not count
  EXPECT_EQ(extract_letter("none here"), "");
  EXPECT_TRUE(score("aqua", "The answer is (B).", "B").correct);
  auto e = score("mathqa", "no letter", "A");
  EXPECT_FALSE(e.parsed);
  EXPECT_FALSE(e.correct);
}

TEST(EvalExtract, CommonsenseFamilies) {
  EXPECT_TRUE(score("boolq", "the correct answer is true", "true").correct);
  EXPECT_FALSE(score("boolq", "the correct answer is True", "true").parsed);  // case-sensitive
  EXPECT_TRUE(score("piqa", "the correct answer is solution2", "solution2").correct);
  EXPECT_TRUE(score("siqa", "the correct answer is answer3", "answer3").correct);
  EXPECT_TRUE(score("arc-e", "answer4", "answer4").correct);
  EXPECT_TRUE(score("arc-c", "answer5", "answer5").correct);
  EXPECT_TRUE(score("obqa", "answer1", "answer1").correct);
  EXPECT_TRUE(score("hellaswag", "the correct answer is ending4", "ending4").correct);
  EXPECT_TRUE(score("winogrande", "the correct answer is option1", "option1").correct);
  auto e = score("piqa", "I think answer1", "solution1");  // another family's word is no answer
  EXPECT_FALSE(e.parsed);
  EXPECT_FALSE(e.correct);
}

TEST(EvalExtract, CommonsenseFirstOccurrenceWins) {
  EXPECT_EQ(extract_word("false, not true", {"true", "false"}), "false");
  EXPECT_EQ(extract_word("solution2 rather than solution1", {"solution1", "solution2"}), "solution2");
  EXPECT_EQ(extract_word("untrue", {"true", "false"}), "true");  // substring match, as re.findall
  EXPECT_FALSE(score("boolq", "false is wrong, true is right", "true").correct);
}

TEST(EvalTasks, NamesFoldersAndErrors) {
  EXPECT_EQ(task("arc-e").folder, "ARC-Easy");
  EXPECT_EQ(task("arc-c").folder, "ARC-Challenge");
  EXPECT_EQ(task("siqa").folder, "social_i_qa");
  EXPECT_EQ(task("obqa").folder, "openbookqa");
  EXPECT_EQ(task("gsm8k").default_max_new_tokens, 256);
  EXPECT_EQ(task("boolq").default_max_new_tokens, 32);
  auto bad = find_eval_task("mmlu");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("gsm8k"), std::string::npos);
  EXPECT_NE(bad.status().message().find("winogrande"), std::string::npos);
}

TEST(EvalTasks, PromptIsEvaluatePyTemplate) {
  const std::string ind(16, ' ');
  EXPECT_EQ(eval_prompt("Q?", ""),
            "Below is an instruction that describes a task. Write a response that appropriately "
            "completes the request. \n\n" +
                ind + "### Instruction:\n" + ind + "Q?\n\n" + ind + "### Response:\n" + ind);
  EXPECT_EQ(eval_prompt("Q?", "X"),
            "Below is an instruction that describes a task, paired with an input that provides further "
            "context. Write a response that appropriately completes the request.\n\n" +
                ind + "### Instruction:\n" + ind + "Q?\n\n" + ind + "### Input:\n" + ind + "X\n\n" + ind +
                "### Response:\n" + ind);
}

TEST(EvalTasks, CandidatesFollowTheAnswerFormatLine) {
  auto c =
      make_candidates(task("siqa"), "Q\n\nAnswer1: a Answer2: b Answer3: c\n\nAnswer format: answer1/answer2/answer3");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[2].word, "answer3");
  EXPECT_EQ(c[2].text, "the correct answer is answer3");
  EXPECT_EQ(make_candidates(task("boolq"), "no format line").size(), 2u);
  auto a = make_candidates(task("aqua"), "Answer Choices: (A) 1 (B) 2");
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[1].text, "The answer is (B).");
}

}  // namespace
}  // namespace peft
