// Runs an evaluation task: generation + extraction, likelihood ranking, or rescoring saved outputs.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "data/chat_prompt.h"
#include "eval/tasks.h"
#include "io/json_file.h"
#include "model/model.h"
#include "model/site.h"
#include "tokenizer/tokenizer.h"

namespace peft {

// The counts of results.json (settings are added by the caller) and predictions.jsonl.
struct EvalOutcome {
  Json results;                   // task, n, correct, accuracy, unparsed, hit_limit, truncated, ...
  std::vector<Json> predictions;  // one object per record evaluated
};

// What runs the model.
struct EvalModel {
  const Model* model = nullptr;
  SiteHooks* hooks = nullptr;  // an adapter, or null
  const Tokenizer* tok = nullptr;
  // An instruction-tuned model's chat template: prompts are the record's instruction (and
  // input) as the user's message, rendered; generation also stops at the end of turn. Null:
  // LLM-Adapters' prompt template.
  const ChatPrompt* chat = nullptr;
};

// Greedy (num_beams 1; batch_size prompts decoded together, same tokens as one at a time) or
// beam-search generation of up to max_new_tokens per record (stops at EOS), then the task's
// extraction. The output is the decoded continuation (special tokens skipped) cut at a
// further "### Response:" and stripped — their output.split("### Response:")[1].strip().
Result<EvalOutcome> eval_generate(const EvalTask& task, const std::vector<EvalRecord>& records, const EvalModel& m,
                                  int64_t max_new_tokens, int64_t num_beams = 1, int64_t batch_size = 1);

// Ranks the task's candidates by summed (`accuracy`) and mean (`accuracy_norm`) token
// log-probability. Multiple-choice tasks only.
Result<EvalOutcome> eval_likelihood(const EvalTask& task, const std::vector<EvalRecord>& records, const EvalModel& m);

// {"index": i, "output": "..."} per line; index into `records` (the whole task file).
// Errors name the file and line: bad JSON, missing fields, index out of range, duplicates.
Result<std::vector<std::pair<int64_t, std::string>>> load_predictions(const std::string& path, int64_t n_records);
// Scores saved outputs without a model.
Result<EvalOutcome> eval_rescore(const EvalTask& task, const std::vector<EvalRecord>& records,
                                 const std::vector<std::pair<int64_t, std::string>>& outputs);

// Token-weighted mean NLL and its exp over the lines of a text file (plain lines, or JSONL
// with "text" when the first non-space character is '{'); empty lines are skipped.
Result<EvalOutcome> eval_perplexity(const std::string& path, int64_t limit, const EvalModel& m);

// Writes results.json and predictions.jsonl into `dir` (built aside, then renamed in).
Status write_eval_outputs(const std::string& dir, const EvalOutcome& outcome, bool overwrite = false);

}  // namespace peft
