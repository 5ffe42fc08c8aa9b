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

using Ngrams = std::map<std::vector<std::string>, int>;
Ngrams ngrams(const std::vector<std::string>& w, size_t n) {
  Ngrams m;
  for (size_t i = 0; i + n <= w.size(); ++i) ++m[std::vector<std::string>(w.begin() + i, w.begin() + i + n)];
  return m;
}

size_t lcs(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

double spearman_corr(const std::vector<double>& x, const std::vector<double>& y) {
  return pearson_corr(ranks(x), ranks(y));
}

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  for (std::string t; in >> t;) w.push_back(t);
  return w;
}

double bleu4(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs) {
  double match[4] = {0, 0, 0, 0}, total[4] = {0, 0, 0, 0};
  double hyp_len = 0, ref_len = 0;
  for (size_t h = 0; h < std::min(hyps.size(), refs.size()); ++h) {
    const auto hw = split_words(hyps[h]);
    std::vector<std::vector<std::string>> rw;
    for (const auto& r : refs[h]) rw.push_back(split_words(r));
    hyp_len += double(hw.size());
    size_t best = 0;
    bool first = true;
    for (const auto& r : rw) {
      const auto d = [&](size_t len) { return std::llabs((long long)len - (long long)hw.size()); };
      if (first || d(r.size()) < d(best) || (d(r.size()) == d(best) && r.size() < best)) best = r.size();
      first = false;
    }
    ref_len += double(best);
    for (size_t n = 1; n <= 4; ++n) {
      const Ngrams hg = ngrams(hw, n);
      std::map<std::vector<std::string>, int> maxref;
      for (const auto& r : rw)
        for (const auto& [g, c] : ngrams(r, n)) maxref[g] = std::max(maxref[g], c);
      for (const auto& [g, c] : hg) {
        auto it = maxref.find(g);
        match[n - 1] += std::min(c, it == maxref.end() ? 0 : it->second);
        total[n - 1] += c;
      }
    }
  }
  double log_p = 0;
  for (int n = 0; n < 4; ++n) {
    if (match[n] == 0 || total[n] == 0) return 0.0;
    log_p += 0.25 * std::log(match[n] / total[n]);
  }
  const double bp = hyp_len >= ref_len ? 1.0 : std::exp(1.0 - ref_len / std::max(hyp_len, 1e-9));
  return bp * std::exp(log_p);
}

double rouge_l(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs) {
  const size_t n = std::min(hyps.size(), refs.size());
  if (n == 0) return 0;
  const double beta = 1.2;
  double sum = 0;
  for (size_t h = 0; h < n; ++h) {
    const auto hw = split_words(hyps[h]);
    double p = 0, r = 0;
    for (const auto& ref : refs[h]) {
      const auto rw = split_words(ref);
      const double l = double(lcs(hw, rw));
      if (!hw.empty()) p = std::max(p, l / double(hw.size()));
      if (!rw.empty()) r = std::max(r, l / double(rw.size()));
    }
    if (p > 0 && r > 0) sum += (1 + beta * beta) * p * r / (r + beta * beta * p);
  }
  return sum / double(n);
}

}  // namespace peft
