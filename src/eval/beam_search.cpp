// Beam search over InferenceRunner with KV-cache row reordering.
#include "eval/beam_search.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/generate.h"
#include "model/inference.h"

namespace peft {

namespace {
struct Hyp {
  std::vector<int32_t> tokens;
  double score;
  double sum;
  bool eos;
};

// Copies cache rows so that row b holds what row src[b] held (first `len` positions).
void reorder_cache(KvCache& cache, int64_t n_layer, int64_t kv_dim, const std::vector<int64_t>& src) {
  const int64_t B = cache.batch(), row = cache.capacity() * kv_dim, used = cache.length() * kv_dim;
  std::vector<float> tmp(size_t(B * used));
  for (int64_t l = 0; l < n_layer; ++l)
    for (float* base : {cache.k(l), cache.v(l)}) {
      for (int64_t b = 0; b < B; ++b)
        std::memcpy(tmp.data() + b * used, base + src[b] * row, size_t(used) * sizeof(float));
      for (int64_t b = 0; b < B; ++b) std::memcpy(base + b * row, tmp.data() + b * used, size_t(used) * sizeof(float));
    }
}

void log_softmax(const float* x, int64_t V, std::vector<double>& out) {
  float m = x[0];
  for (int64_t i = 1; i < V; ++i) m = std::max(m, x[i]);
  double s = 0;
  for (int64_t i = 0; i < V; ++i) s += std::exp(double(x[i]) - m);
  const double lse = m + std::log(s);
  out.resize(size_t(V));
  for (int64_t i = 0; i < V; ++i) out[i] = double(x[i]) - lse;
}
// NoRepeatNGramLogitsProcessor on one beam's sequence (prompt + its tokens): every token that
// followed the sequence's last n−1 tokens earlier in it gets −∞.
void ban_repeated_ngrams(const std::vector<int32_t>& prompt, const std::vector<int32_t>& beam, int64_t n,
                         std::vector<double>& lp) {
  std::vector<int32_t> seq(prompt);
  seq.insert(seq.end(), beam.begin(), beam.end());
  const int64_t L = int64_t(seq.size());
  if (L + 1 < n) return;
  for (int64_t start = 0; start + n <= L; ++start) {
    bool same = true;
    for (int64_t k = 0; k < n - 1 && same; ++k) same = seq[size_t(start + k)] == seq[size_t(L - n + 1 + k)];
    if (same) lp[size_t(seq[size_t(start + n - 1)])] = -INFINITY;
  }
}
}  // namespace

Result<BeamResult> beam_search(const Model& model, SiteHooks* hooks, const std::vector<int32_t>& prompt,
                               int64_t num_beams, int64_t max_new_tokens, const std::vector<int32_t>& stop_ids,
                               const BeamOptions& options) {
  const ModelConfig& c = model.config;
  const int64_t K = num_beams, V = c.n_vocab, P = int64_t(prompt.size());
  if (K < 1) return Status::error("beam search: num_beams must be >= 1");
  if (!std::isfinite(options.length_penalty))
    return Status::errorf("beam search: length_penalty must be finite, found {}", options.length_penalty);
  if (options.no_repeat_ngram_size < 0)
    return Status::errorf("beam search: no_repeat_ngram_size must be >= 0, found {}", options.no_repeat_ngram_size);
  const double lp_exp = options.length_penalty;
  if (P == 0) return Status::error("beam search: the prompt is empty");
  if (P > c.n_ctx) return Status::errorf("beam search: the prompt has {} tokens but the context is {}", P, c.n_ctx);
  PEFT_TRY(check_token_ids(model, prompt.data(), P, "prompt"));
  const int64_t capacity = std::min(c.n_ctx, P + max_new_tokens);
  InferenceRunner runner(model, K, P, capacity, hooks);
  std::vector<int32_t> ids(size_t(K * P));
  for (int64_t b = 0; b < K; ++b) std::copy(prompt.begin(), prompt.end(), ids.begin() + b * P);
  std::vector<float> logits(size_t(K * V));
  runner.forward(ids.data(), P, logits.data(), false);

  std::vector<std::vector<int32_t>> beams(static_cast<size_t>(K));
  std::vector<double> score(size_t(K), -1e9);
  score[0] = 0;
  std::vector<Hyp> done;
  auto worst = [&] {
    double w = 1e300;
    for (const auto& h : done) w = std::min(w, h.score);
    return w;
  };
  auto add_hyp = [&](std::vector<int32_t> toks, double sum, bool eos) {
    const double s = sum / std::pow(double(P + int64_t(toks.size())), lp_exp);
    if (int64_t(done.size()) < K || s > worst()) {
      done.push_back({std::move(toks), s, sum, eos});
      if (int64_t(done.size()) > K)
        done.erase(
            std::min_element(done.begin(), done.end(), [](const Hyp& a, const Hyp& b) { return a.score < b.score; }));
    }
  };
  std::vector<double> lp;
  std::vector<std::pair<double, int64_t>> cand;  // (score, beam * V + token)
  int64_t n_stops = 1;                           // EOS and the distinct other stop ids
  for (size_t i = 0; i < stop_ids.size(); ++i)
    if (stop_ids[i] != c.eos_id &&
        std::find(stop_ids.begin(), stop_ids.begin() + i, stop_ids[i]) == stop_ids.begin() + i)
      ++n_stops;
  for (int64_t step = 0; step < max_new_tokens; ++step) {
    cand.clear();
    for (int64_t b = 0; b < K; ++b) {
      log_softmax(logits.data() + b * V, V, lp);
      if (options.no_repeat_ngram_size > 0) ban_repeated_ngrams(prompt, beams[b], options.no_repeat_ngram_size, lp);
      for (int64_t t = 0; t < V; ++t) cand.emplace_back(lp[t] + score[b], b * V + t);
    }
    // Each beam can close on every stop id: (1 + stops) · K candidates always leave K running
    // (transformers keeps (1 + eos ids) · K for the same reason).
    const int64_t top = std::min<int64_t>((1 + n_stops) * K, int64_t(cand.size()));
    std::partial_sort(cand.begin(), cand.begin() + top, cand.end(), [](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    std::vector<int64_t> src;
    std::vector<int32_t> next;
    std::vector<double> next_score;
    for (int64_t i = 0; i < top && int64_t(next.size()) < K; ++i) {
      const int64_t b = cand[i].second / V;
      const int32_t t = int32_t(cand[i].second % V);
      if (t == c.eos_id || std::find(stop_ids.begin(), stop_ids.end(), t) != stop_ids.end()) {
        if (i < K) add_hyp(beams[b], cand[i].first, true);
        continue;
      }
      src.push_back(b);
      next.push_back(t);
      next_score.push_back(cand[i].first);
    }
    if (int64_t(next.size()) < K) break;  // cannot happen with V > (1 + stops) · K
    const int64_t cur_len = P + step;
    const bool finished = int64_t(done.size()) >= K && worst() >= cand[0].first / std::pow(double(cur_len), lp_exp);
    std::vector<std::vector<int32_t>> nb(static_cast<size_t>(K));
    for (int64_t b = 0; b < K; ++b) {
      nb[b] = beams[src[b]];
      nb[b].push_back(next[b]);
    }
    beams = std::move(nb);
    score = next_score;
    if (finished) {
      beams.clear();
      break;
    }
    if (step + 1 == max_new_tokens || runner.cache().length() >= runner.cache().capacity()) break;
    reorder_cache(runner.cache(), c.n_layer, c.kv_dim(), src);
    runner.forward(next.data(), 1, logits.data(), false);
  }
  for (int64_t b = 0; b < int64_t(beams.size()); ++b) add_hyp(beams[b], score[b], false);
  if (done.empty()) return BeamResult{};
  const Hyp& best =
      *std::max_element(done.begin(), done.end(), [](const Hyp& a, const Hyp& b) { return a.score < b.score; });
  return BeamResult{best.tokens, best.eos, best.sum};
}

}  // namespace peft
