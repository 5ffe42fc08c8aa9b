// GLUE scored from a model's sequence-classification head (encoders): the prediction is the
// head's argmax (STS-B: its one output), not generated text; GLUE's metrics as for generation.
#pragma once
#include <string>
#include <string_view>

#include "core/status.h"
#include "eval/evaluator.h"

namespace peft {

// Every row of the GLUE file at `path` (the first `limit`, -1 = all) through the tokenizer's
// template (data/classifier_examples.h, cut to max_len tokens) and the head, batch_size rows per
// forward. results: the task's metrics (accuracy; F1 for mrpc/qqp; Matthews for cola;
// Pearson/Spearman for stsb), "scoring": "classifier"; each prediction carries the head's logits.
Result<EvalOutcome> eval_glue_classifier(std::string_view task, const std::string& path, const EvalModel& m,
                                         int64_t batch_size, int64_t max_len, int64_t limit);

}  // namespace peft
