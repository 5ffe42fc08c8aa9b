// GLUE metrics: accuracy, F1, Matthews correlation, Pearson/Spearman (E2E's: eval/e2e_metrics.h).
#pragma once
#include <string>
#include <vector>

namespace peft {

// Fraction of equal pairs (0 for empty input).
double accuracy(const std::vector<int>& pred, const std::vector<int>& label);
// Matthews correlation (CoLA), as sklearn's matthews_corrcoef: binary for classes 0/1, the
// multiclass form when other ids occur (-1: unreadable output); 0 when a margin is empty.
double matthews_corr(const std::vector<int>& pred, const std::vector<int>& label);
// F1 of class 1 (MRPC, QQP), as sklearn's f1_score: 2·TP / (2·TP + FP + FN); 0 when there is no
// positive prediction and no positive label.
double f1_binary(const std::vector<int>& pred, const std::vector<int>& label);
// Pearson correlation (STS-B); 0 when either side is constant.
double pearson_corr(const std::vector<double>& x, const std::vector<double>& y);
// Spearman: Pearson of average ranks (ties share their mean rank, as scipy).
double spearman_corr(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace peft
