// peft eval --task sst2|cola|rte|stsb|e2e with a model: generation read back through the
// verbalisers (data/verbalisers.h), or likelihood ranking of the verbaliser words, scored by
// score_reference_items so generated and saved outputs are scored by one code path.
#pragma once
#include <string_view>
#include <vector>

#include "core/status.h"
#include "eval/evaluator.h"
#include "eval/generation.h"
#include "eval/reference_tasks.h"

namespace peft {

// Continues every item's prompt (generate_continuations); each output is the continuation's
// first_response_line. results.json adds hit_limit and truncated to the task's metrics;
// predictions.jsonl adds generated_tokens.
Result<EvalOutcome> eval_reference_generate(std::string_view task, const std::vector<ReferenceItem>& items,
                                            const EvalModel& m, const ContinuationOptions& options);

// sst2, cola, rte: the output is the verbaliser word with the highest summed log-probability
// after the prompt (the metrics); `accuracy_norm` (cola also `matthews_norm`) ranks by the mean
// per token. predictions.jsonl adds each word's scores.
Result<EvalOutcome> eval_reference_likelihood(std::string_view task, const std::vector<ReferenceItem>& items,
                                              const EvalModel& m);

}  // namespace peft
