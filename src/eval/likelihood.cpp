// Candidate log-likelihoods and sequence NLL from InferenceRunner's all-position logits.
#include "eval/likelihood.h"

#include <algorithm>
#include <cmath>

#include "model/inference.h"

namespace peft {

namespace {
// log p(id) under logits (V): x[id] - logsumexp(x).
double log_prob(const float* x, int64_t V, int32_t id) {
  float m = x[0];
  for (int64_t i = 1; i < V; ++i) m = std::max(m, x[i]);
  double s = 0;
  for (int64_t i = 0; i < V; ++i) s += std::exp(double(x[i]) - m);
  return double(x[id]) - m - std::log(s);
}

// All-position logits of `rows` (B rows of equal length T) in one forward.
std::vector<float> forward_all(const Model& model, SiteHooks* hooks, const std::vector<int32_t>& ids, int64_t B,
                               int64_t T, int64_t* nv_out) {
  const int64_t V = model.config.n_vocab;
  const int64_t nv = hooks ? hooks->num_virtual_tokens() : 0;
  InferenceRunner runner(model, B, T, T, hooks);
  std::vector<float> logits(size_t(B * (nv + T) * V));
  runner.forward(ids.data(), T, logits.data(), true);
  *nv_out = nv;
  return logits;
}
}  // namespace

std::vector<Candidate> make_candidates(const EvalTask& task, const std::string& instruction) {
  std::vector<Candidate> out;
  if (task.kind == AnswerKind::Letter) {
    for (const auto& w : task.words) out.push_back({w, "The answer is (" + w + ")."});
    return out;
  }
  std::vector<std::string> words;
  const std::string key = "Answer format:";
  size_t p = instruction.rfind(key);
  if (p != std::string::npos) {
    std::string rest = instruction.substr(p + key.size());
    size_t b = 0;
    while (b <= rest.size()) {
      size_t e = rest.find('/', b);
      if (e == std::string::npos) e = rest.size();
      std::string w = rest.substr(b, e - b);
      w.erase(0, w.find_first_not_of(" \t\n"));
      w.erase(w.find_last_not_of(" \t\n.") + 1);
      if (std::find(task.words.begin(), task.words.end(), w) != task.words.end() &&
          std::find(words.begin(), words.end(), w) == words.end())
        words.push_back(w);
      b = e + 1;
    }
  }
  if (words.size() < 2) words = task.words;
  for (const auto& w : words) out.push_back({w, "the correct answer is " + w});
  return out;
}

Result<LikelihoodResult> score_candidates(const Model& model, SiteHooks* hooks, const Tokenizer& tok,
                                          const std::string& prompt, const std::vector<Candidate>& cands) {
  if (cands.empty()) return Status::error("likelihood scoring: no candidates");
  const int64_t B = int64_t(cands.size()), V = model.config.n_vocab, ctx = model.config.n_ctx;
  const std::vector<int32_t> p = tok.encode(prompt, true);
  std::vector<std::vector<int32_t>> rows(static_cast<size_t>(B));
  std::vector<int64_t> start(static_cast<size_t>(B));  // first scored position of each row
  int64_t T = 0;
  for (int64_t b = 0; b < B; ++b) {
    rows[b] = tok.encode(prompt + cands[b].text, true);
    const auto& r = rows[b];
    int64_t k = 0;
    while (k < int64_t(p.size()) && k < int64_t(r.size()) && p[k] == r[k]) ++k;
    start[b] = std::clamp<int64_t>(k, 1, int64_t(r.size()));
    T = std::max<int64_t>(T, int64_t(r.size()));
  }
  LikelihoodResult res;
  // Drop prompt tokens after the first (BOS) until every row fits the context.
  const int64_t keep_head = tok.add_bos_default() ? 1 : 0;
  if (T > ctx) {
    const int64_t drop = T - ctx;
    const int64_t min_start = *std::min_element(start.begin(), start.end());
    if (min_start - keep_head - drop < 1)
      return Status::errorf("likelihood scoring: the answers alone ({} tokens) exceed the context of {}", T - min_start,
                            ctx);
    for (int64_t b = 0; b < B; ++b) {
      rows[b].erase(rows[b].begin() + keep_head, rows[b].begin() + keep_head + drop);
      start[b] -= drop;
    }
    T -= drop;
    res.truncated = true;
  }
  // The rows agree on their first S tokens (the prompt, and often the start of the answers):
  // those run once, in one row, and every candidate's row continues from a copy of that
  // cache. No score reads a logit before position start − 1, so S stops there.
  int64_t S = *std::min_element(start.begin(), start.end()) - 1;
  for (int64_t b = 1; b < B; ++b)
    for (int64_t t = 0; t < S; ++t)
      if (rows[b][t] != rows[0][t]) S = t;
  const int64_t L = T - S;  // the continuation every row runs, padded to the longest
  const int32_t pad = model.config.eos_id >= 0 ? model.config.eos_id : 0;
  std::vector<int32_t> ids(size_t(B * L), pad);
  for (int64_t b = 0; b < B; ++b) std::copy(rows[b].begin() + S, rows[b].end(), ids.begin() + b * L);
  const int64_t nv_hooks = hooks ? hooks->num_virtual_tokens() : 0;
  InferenceRunner runner(model, B, std::max(S, L), T, hooks);
  if (S > 0) {
    std::vector<float> last(static_cast<size_t>(V));
    runner.select_rows({0});
    runner.forward(rows[0].data(), S, last.data(), false);
    runner.select_rows(std::vector<int64_t>(size_t(B), 0));
  }
  const int64_t nv = S > 0 ? 0 : nv_hooks;  // virtual tokens come with the first forward
  const int64_t Tl = nv + L;
  std::vector<float> logits(size_t(B * Tl * V));
  runner.forward(ids.data(), L, logits.data(), true);
  for (int64_t b = 0; b < B; ++b) {
    CandidateScore s;
    for (int64_t t = start[b]; t < int64_t(rows[b].size()); ++t) {
      const float* x = logits.data() + (b * Tl + nv + t - 1 - S) * V;
      s.logprob += log_prob(x, V, rows[b][t]);
      ++s.tokens;
    }
    res.scores.push_back(s);
  }
  return res;
}

CandidateRanking rank_candidates(const std::vector<Candidate>& cands, const LikelihoodResult& scored) {
  CandidateRanking r;
  for (size_t k = 0; k < cands.size(); ++k) {
    const CandidateScore& s = scored.scores[k];
    if (s.logprob > scored.scores[r.best].logprob) r.best = k;
    if (s.norm() > scored.scores[r.best_norm].norm()) r.best_norm = k;
    r.scores.push_back({{"word", cands[k].word}, {"logprob", s.logprob}, {"tokens", s.tokens}});
  }
  return r;
}

NllSum sequence_nll(const Model& model, SiteHooks* hooks, const std::vector<int32_t>& ids) {
  NllSum out;
  const int64_t V = model.config.n_vocab, ctx = model.config.n_ctx, n = int64_t(ids.size());
  for (int64_t s = 0; s + 1 < n; s += ctx) {
    const int64_t T = std::min(ctx, n - s);
    if (T < 2) break;
    std::vector<int32_t> w(ids.begin() + s, ids.begin() + s + T);
    int64_t nv = 0;
    std::vector<float> logits = forward_all(model, hooks, w, 1, T, &nv);
    for (int64_t t = 1; t < T; ++t) {
      out.nll -= log_prob(logits.data() + (nv + t - 1) * V, V, w[t]);
      ++out.tokens;
    }
  }
  return out;
}

}  // namespace peft
