// Beam search as Hugging Face transformers' BeamSearchScorer (early_stopping off), with its
// length_penalty and NoRepeatNGramLogitsProcessor.
#pragma once
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "model/site.h"

namespace peft {

struct BeamResult {
  std::vector<int32_t> tokens;  // the best hypothesis's new tokens (EOS not included)
  bool ended_with_eos = false;  // false: it ran into max_new_tokens or the context
  double logprob = 0;           // sum of its tokens' log-probabilities (EOS included when it ended so)
};

struct BeamOptions {
  // A closed hypothesis scores sum_logprobs / length^length_penalty (length = prompt + new
  // tokens, as transformers 4.31 counts it for decoder-only models): > 1 favours longer outputs.
  double length_penalty = 1.0;
  // > 0: a token that would repeat an n-gram of this size already in the sequence (prompt
  // included) gets log-probability −∞ (transformers' no_repeat_ngram_size, applied to the
  // log-softmax as its beam search does, without renormalising).
  int64_t no_repeat_ngram_size = 0;
};

// `num_beams` rows share one KV cache (rows are copied when beams are reordered). Per step
// every beam's log-softmax plus its running score competes in one top-2k list over beams ×
// vocabulary; an EOS among the first k closes a hypothesis scored sum_logprobs / length
// (prompt + new tokens, EOS not counted); the rest fill the k running beams. Stops when k
// hypotheses are closed and none running can beat the worst (best running score /
// current length), or at the limit, where the running beams are closed too. Beams other
// than the first start at -1e9 so the first step does not pick one token k times.
// `stop_ids`: more ids that close a hypothesis as EOS does (a chat template's end of turn).
Result<BeamResult> beam_search(const Model& model, SiteHooks* hooks, const std::vector<int32_t>& prompt,
                               int64_t num_beams, int64_t max_new_tokens, const std::vector<int32_t>& stop_ids = {},
                               const BeamOptions& options = {});

}  // namespace peft
