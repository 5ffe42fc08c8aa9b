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

TEST(EvalMetrics, F1OfThePositiveClass) {
  // TP 2, FP 1, FN 1: F1 = 4 / 6 (sklearn.metrics.f1_score).
  EXPECT_NEAR(f1_binary({1, 1, 1, 0, 0}, {1, 1, 0, 1, 0}), 4.0 / 6.0, 1e-12);
  EXPECT_EQ(f1_binary({0, 0}, {0, 0}), 0.0);
  EXPECT_EQ(f1_binary({1, 0}, {1, 0}), 1.0);
}

}  // namespace
}  // namespace peft
