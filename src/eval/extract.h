// Answer extraction and scoring exactly as LLM-Adapters' evaluate.py / commonsense_evaluate.py.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/text.h"
#include "eval/tasks.h"

namespace peft {

// What was read from one model output.
struct Extraction {
  bool parsed = false;    // false: nothing matched (counts as wrong and as `unparsed`)
  std::string extracted;  // the matched text ("" when unparsed); numbers as matched
  bool correct = false;
};

// evaluate.py extract_answer_number: drop every ',', take the last match of -?\d+\.?\d*,
// float() it (none → inf); correct when |label - pred| <= 0.001 (their `miss`).
Extraction extract_number(std::string_view output, double label);
// evaluate.py extract_answer_letter: the first of A|B|C|D|E anywhere in output.strip().
std::string extract_letter(std::string_view output);
// commonsense_evaluate.py extract_answer: re.findall('w1|w2|...')[0] — the earliest
// occurrence (ties at one position go to the first alternative); "" when none.
std::string extract_word(std::string_view output, const std::vector<std::string>& words);

// Scores `output` against `label` (the record's "answer") by the task's rule. A math label
// that is not a number is an error naming it.
Result<Extraction> score_output(const EvalTask& task, std::string_view output, const std::string& label);

}  // namespace peft
