// Classification, correlation and generation-overlap metrics.
#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <sstream>

namespace peft {

double accuracy(const std::vector<int>& pred, const std::vector<int>& label) {
  const size_t n = std::min(pred.size(), label.size());
  if (n == 0) return 0;
  size_t ok = 0;
  for (size_t i = 0; i < n; ++i) ok += pred[i] == label[i];
  return double(ok) / double(n);
}

double matthews_corr(const std::vector<int>& pred, const std::vector<int>& label) {
  // sklearn's multiclass form (Gorodkin's R_K): with classes 0/1 it is the usual binary MCC;
  // an unreadable output (-1) is a class of its own, so a model that never answers scores 0
  // (a constant prediction), not -1 as it would if each were scored as the other class.
  std::map<int, double> t, p;  // per class: true count, predicted count
  double c = 0, s = 0;
  for (size_t i = 0; i < std::min(pred.size(), label.size()); ++i) {
    t[label[i]] += 1;
    p[pred[i]] += 1;
    c += pred[i] == label[i];
    s += 1;
  }
  double tp = 0, pp = 0, tt = 0;
  for (const auto& [k, n] : t) {
    tt += n * n;
    tp += n * (p.contains(k) ? p[k] : 0.0);
  }
  for (const auto& [k, n] : p) pp += n * n;
  const double den = std::sqrt((s * s - pp) * (s * s - tt));
  return den > 0 ? (c * s - tp) / den : 0.0;
}

double f1_binary(const std::vector<int>& pred, const std::vector<int>& label) {
  int64_t tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < pred.size() && i < label.size(); ++i) {
    tp += pred[i] == 1 && label[i] == 1;
    fp += pred[i] == 1 && label[i] != 1;
    fn += pred[i] != 1 && label[i] == 1;
  }
  return tp == 0 ? 0.0 : 2.0 * double(tp) / double(2 * tp + fp + fn);
}

double pearson_corr(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = std::min(x.size(), y.size());
  if (n == 0) return 0;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= double(n);
  my /= double(n);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0.0;
}

namespace {
std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    const double avg = (double(i) + double(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

}  // namespace

double spearman_corr(const std::vector<double>& x, const std::vector<double>& y) {
  return pearson_corr(ranks(x), ranks(y));
}

}  // namespace peft
