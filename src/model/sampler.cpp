// Sampling as Hugging Face's generate applies it: temperature, then top-k, then top-p.
#include "model/sampler.h"

#include <algorithm>
#include <cmath>

namespace peft {

int32_t argmax(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return int32_t(best);
}

int32_t Sampler::sample(const float* logits, int64_t V) {
  if (opt_.temperature <= 0.f) return argmax(logits, V);
  candidates_.clear();
  for (int64_t i = 0; i < V; ++i) candidates_.emplace_back(logits[i] / opt_.temperature, int32_t(i));
  std::sort(candidates_.begin(), candidates_.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  size_t keep = candidates_.size();
  if (opt_.top_k > 0) keep = std::min(keep, size_t(opt_.top_k));
  // softmax over the kept candidates
  const float mx = candidates_[0].first;
  std::vector<double> probs(keep);
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) sum += probs[i] = std::exp(double(candidates_[i].first - mx));
  for (double& p : probs) p /= sum;
  if (opt_.top_p < 1.f) {
    // Keep the smallest prefix whose mass reaches top_p (always at least one token).
    double cum = 0;
    size_t cut = 0;
    while (cut < keep) {
      cum += probs[cut++];
      if (cum >= double(opt_.top_p)) break;
    }
    keep = cut;
    double s = 0;
    for (size_t i = 0; i < keep; ++i) s += probs[i];
    for (size_t i = 0; i < keep; ++i) probs[i] /= s;
  }
  double u = double(rng_.uniform());
  double cum = 0;
  for (size_t i = 0; i < keep; ++i) {
    cum += probs[i];
    if (u < cum) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;
}

}  // namespace peft
