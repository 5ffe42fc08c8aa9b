// Scoring saved predictions on GLUE (sst2, cola, rte, stsb) dev sets and E2E references.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "eval/evaluator.h"

namespace peft {

// Whether `name` is one of sst2, cola, rte, stsb, e2e.
bool is_reference_task(std::string_view name);

// The default file: $PEFT_SHARED_DIR (else ../shared)/data/datasets/glue/<SST-2|CoLA|RTE|STS-B>/dev.tsv
// or .../e2e/valid.txt.
std::string default_reference_data(std::string_view name);

// The number of scorable items in `path` for `name` (GLUE rows; E2E distinct meaning
// representations in first-appearance order), so prediction indices can be checked.
Result<int64_t> count_reference_items(std::string_view name, const std::string& path);

// Scores `outputs` ({index, output}) against the file. Classification outputs are the label
// ("0"/"1"; rte also "entailment"/"not_entailment"), stsb a number, e2e the generated text.
// Unparseable outputs count as wrong (stsb: 0) and in `unparsed`. results.json gets
// accuracy (sst2, rte, cola), matthews (cola), pearson + spearman (stsb), bleu + rouge_l (e2e).
Result<EvalOutcome> score_reference_task(std::string_view name, const std::string& path,
                                         const std::vector<std::pair<int64_t, std::string>>& outputs);

// "TASK metric=V ... n=N" for results of any task (LLM-Adapters ones included).
std::string summary_line(const Json& results);

}  // namespace peft
