// GLUE / E2E evaluation with a model: generate-and-read-back, or verbaliser-word likelihood.
#include "eval/reference_eval.h"

#include <cstdio>

#include "core/threads.h"
#include "data/verbalisers.h"
#include "eval/likelihood.h"

namespace peft {

namespace {
void progress(std::string_view task, const char* what, size_t done, size_t total) {
  if (done % 50 == 0 || done == total)
    std::fprintf(stderr, "%.*s: %s %zu/%zu\n", int(task.size()), task.data(), what, done, total);
}
}  // namespace

Result<EvalOutcome> eval_reference_generate(std::string_view task, const std::vector<ReferenceItem>& items,
                                            const EvalModel& m, const ContinuationOptions& options) {
  std::vector<std::string> prompts;
  prompts.reserve(items.size());
  for (const ReferenceItem& item : items) prompts.push_back(item.prompt);
  size_t done = 0;
  PEFT_ASSIGN_OR_RETURN(std::vector<Continuation> gens, generate_continuations(prompts, m, options, [&](size_t) {
                          progress(task, "generated", ++done, prompts.size());
                        }));
  std::vector<std::pair<int64_t, std::string>> outputs;
  int64_t hit_limit = 0, truncated = 0;
  for (size_t i = 0; i < gens.size(); ++i) {
    outputs.emplace_back(int64_t(i), first_response_line(gens[i].text));
    hit_limit += gens[i].hit_limit;
    truncated += gens[i].truncated;
  }
  PEFT_ASSIGN_OR_RETURN(EvalOutcome out, score_reference_items(task, items, outputs));
  for (size_t i = 0; i < gens.size(); ++i) out.predictions[i]["generated_tokens"] = int64_t(gens[i].ids.size());
  out.results["hit_limit"] = hit_limit;
  out.results["truncated"] = truncated;
  return out;
}

Result<EvalOutcome> eval_reference_likelihood(std::string_view task, const std::vector<ReferenceItem>& items,
                                              const EvalModel& m) {
  const VerbalTask* t = find_verbal_task(task);
  if (t == nullptr || t->kind != VerbalKind::Class)
    return Status::errorf("--scoring likelihood needs a classification task (sst2, cola, rte), not '{}'", task);
  // The candidate text is the training output itself: prompt + word is the training record.
  std::vector<Candidate> cands;
  for (const std::string& w : t->words) cands.push_back({w, w});
  std::vector<std::pair<int64_t, std::string>> best, best_norm;
  std::vector<Json> scores;
  int64_t truncated = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    adapt_threads();
    auto lr = score_candidates(*m.model, m.hooks, *m.tok, items[i].prompt, cands);
    if (!lr.is_ok()) return lr.status().with_context(fmt::format("item {}", i));
    truncated += lr->truncated;
    CandidateRanking rank = rank_candidates(cands, *lr);
    best.emplace_back(int64_t(i), cands[rank.best].word);
    best_norm.emplace_back(int64_t(i), cands[rank.best_norm].word);
    scores.push_back(std::move(rank.scores));
    progress(task, "scored", i + 1, items.size());
  }
  PEFT_ASSIGN_OR_RETURN(EvalOutcome out, score_reference_items(task, items, best));
  PEFT_ASSIGN_OR_RETURN(EvalOutcome norm, score_reference_items(task, items, best_norm));
  out.results["accuracy_norm"] = norm.results["accuracy"];
  if (norm.results.contains("matthews")) out.results["matthews_norm"] = norm.results["matthews"];
  out.results["truncated"] = truncated;
  for (size_t i = 0; i < items.size(); ++i) {
    out.predictions[i]["extracted_norm"] = norm.predictions[i]["extracted"];
    out.predictions[i]["scores"] = std::move(scores[i]);
  }
  return out;
}

}  // namespace peft
