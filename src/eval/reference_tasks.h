// GLUE (sst2, cola, rte, stsb) dev sets and E2E references: items, and scoring outputs against them.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "eval/evaluator.h"

namespace peft {

// Whether `name` is one of sst2, cola, rte, stsb, e2e (data/verbalisers.h).
bool is_reference_task(std::string_view name);

// The default file: $PEFT_SHARED_DIR (else ../shared)/data/datasets/glue/<SST-2|CoLA|RTE|STS-B>/dev.tsv
// (GLUE test files are unlabelled) or .../e2e/test.txt, for generation and rescoring alike.
std::string default_reference_data(std::string_view name);

// One scorable item: a GLUE row, or an E2E meaning representation with all its references.
struct ReferenceItem {
  std::string prompt;             // record_user_prompt of its verbal record: the training prompt up to the response
  double label = 0;               // GLUE: class id or similarity score
  std::vector<std::string> refs;  // E2E, in file order
};

// The items of `path` for `name` (E2E: distinct meaning representations in first-appearance
// order), so prediction indices can be checked and prompts built. Errors name file and line.
Result<std::vector<ReferenceItem>> load_reference_items(std::string_view name, const std::string& path);

// Scores `outputs` ({index into items, output}). Classification outputs are read by
// parse_class_output (the label id, a label name or the first verbaliser word), stsb by
// parse_score_output (the first number, clamped to [0, 5]), e2e used as is (stripped).
// Unparseable outputs count as wrong (stsb: 0) and in `unparsed` (e2e: empty outputs). results.json gets
// accuracy (sst2, rte, cola), matthews (cola), pearson + spearman (stsb), bleu + rouge_l (e2e).
Result<EvalOutcome> score_reference_items(std::string_view name, const std::vector<ReferenceItem>& items,
                                          const std::vector<std::pair<int64_t, std::string>>& outputs);
// load_reference_items then score_reference_items.
Result<EvalOutcome> score_reference_task(std::string_view name, const std::string& path,
                                         const std::vector<std::pair<int64_t, std::string>>& outputs);

// "TASK metric=V ... n=N" for results of any task (LLM-Adapters ones included).
std::string summary_line(const Json& results);

}  // namespace peft
