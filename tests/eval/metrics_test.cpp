// GLUE and E2E metrics on hand-computed cases.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/metrics.h"

namespace peft {
namespace {

TEST(EvalMetrics, AccuracyAndMatthews) {
  EXPECT_DOUBLE_EQ(accuracy({1, 0, 1, 1}, {1, 1, 1, 0}), 0.5);
  EXPECT_NEAR(matthews_corr({1, 1, 0, 0}, {1, 0, 0, 0}), 2.0 / std::sqrt(12.0), 1e-12);
  EXPECT_DOUBLE_EQ(matthews_corr({1, 1, 1}, {1, 0, 1}), 0.0);  // a constant prediction
  EXPECT_DOUBLE_EQ(matthews_corr({1, 0}, {0, 1}), -1.0);
  // -1 (unreadable) is a class of its own: never answering is a constant prediction.
  EXPECT_DOUBLE_EQ(matthews_corr({-1, -1, -1, -1}, {1, 0, 1, 1}), 0.0);
  // sklearn's formula by hand: 3 correct of 5, true counts (1: 3, 0: 2), predicted (1: 1, 0: 3,
  // -1: 1): (3·5 − (3·1 + 2·3)) / sqrt((25 − 11)(25 − 13)) = 6 / sqrt(168).
  EXPECT_NEAR(matthews_corr({1, 0, 0, 0, -1}, {1, 0, 1, 0, 1}), 6.0 / std::sqrt(168.0), 1e-12);
}

TEST(EvalMetrics, PearsonAndSpearmanWithTies) {
  EXPECT_NEAR(pearson_corr({1, 2, 3, 4.5}, {2, 4, 6.5, 7}), 0.9431002967935073, 1e-9);
  EXPECT_NEAR(spearman_corr({1, 2, 2, 3}, {10, 30, 20, 40}), 0.9486832980505138, 1e-9);
  EXPECT_NEAR(spearman_corr({1, 2, 3}, {1, 4, 9}), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(pearson_corr({1, 1, 1}, {1, 2, 3}), 0.0);
}

TEST(EvalMetrics, Bleu4) {
  EXPECT_NEAR(bleu4({"the cat sat on the mat"}, {{"the cat sat on the mat"}}), 1.0, 1e-12);
  EXPECT_NEAR(bleu4({"the cat sat on the mat today"}, {{"the cat sat on the mat"}}), std::pow(3.0 / 7.0, 0.25), 1e-12);
  EXPECT_NEAR(bleu4({"the cat sat on the"}, {{"the cat sat on the mat"}}), std::exp(-0.2), 1e-12);  // brevity
  EXPECT_DOUBLE_EQ(bleu4({"the cat sat on the mat"}, {{"the cat is on the mat"}}), 0.0);            // no 4-gram
  // Several references: counts clip to the max over references, length is the closest.
  EXPECT_NEAR(bleu4({"the cat sat on the mat"}, {{"a dog", "the cat sat on the mat"}}), 1.0, 1e-12);
}

TEST(EvalMetrics, RougeL) {
  const double p = 0.75, r = 0.6, b2 = 1.44;
  EXPECT_NEAR(rouge_l({"a b c d"}, {{"a c d e f"}}), (1 + b2) * p * r / (r + b2 * p), 1e-12);
  EXPECT_NEAR(rouge_l({"a b c d", "x"}, {{"q", "a b c d"}, {"y"}}), 0.5, 1e-12);  // best reference; mean
}

}  // namespace
}  // namespace peft
