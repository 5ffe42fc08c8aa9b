// Likelihood scoring: candidate answers ranked by their token log-probabilities, and perplexity.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "eval/tasks.h"
#include "io/json_file.h"
#include "model/model.h"
#include "model/site.h"
#include "tokenizer/tokenizer.h"

namespace peft {

// One candidate answer: the word scored against the label and the text appended to the prompt.
struct Candidate {
  std::string word;  // "true", "solution2", "answer3", "C"
  std::string text;  // "the correct answer is true" (their training outputs); AQuA: "The answer is (C)."
};

// The task's candidates for one record. Word tasks take the words the instruction's
// "Answer format: w1/w2/..." line lists (SIQA has 3, some ARC questions 3 or 5), falling
// back to the whole family; Letter tasks take A-E.
std::vector<Candidate> make_candidates(const EvalTask& task, const std::string& instruction);

struct CandidateScore {
  double logprob = 0;  // sum of the candidate's token log-probabilities given the prompt
  int64_t tokens = 0;  // how many tokens were scored
  double norm() const { return tokens > 0 ? logprob / double(tokens) : logprob; }
};

struct LikelihoodResult {
  std::vector<CandidateScore> scores;
  bool truncated = false;  // the prompt's start was dropped to fit the context
};

// Scores every candidate with one batched forward (a row per candidate, right-padded).
// The scored tokens of a candidate are those of encode(prompt + text) after its common
// prefix with encode(prompt) (so a token merging the prompt's end with the answer counts
// as the answer's). Over-long rows lose prompt tokens from the left (after BOS).
Result<LikelihoodResult> score_candidates(const Model& model, SiteHooks* hooks, const Tokenizer& tok,
                                          const std::string& prompt, const std::vector<Candidate>& cands);

// The winners among scored candidates (the first wins a tie): `best` by summed log-probability,
// `best_norm` by the mean per token; `scores` holds {"word", "logprob", "tokens"} per candidate
// for predictions.jsonl.
struct CandidateRanking {
  size_t best = 0, best_norm = 0;
  Json scores = Json::array();
};
CandidateRanking rank_candidates(const std::vector<Candidate>& cands, const LikelihoodResult& scored);

// Sum of -log p(token) over ids[1..] (each given the ones before) and how many were scored;
// sequences longer than the context are split into context-sized windows, each window's
// first token unscored.
struct NllSum {
  double nll = 0;
  int64_t tokens = 0;
};
NllSum sequence_nll(const Model& model, SiteHooks* hooks, const std::vector<int32_t>& ids);

}  // namespace peft
