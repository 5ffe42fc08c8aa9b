// GLUE (sst2, cola, rte, stsb, mrpc, qqp, qnli, mnli, wnli), E2E, WebNLG and DART as instruction records: each task's
// instruction,
// the verbaliser that turns a label into the record's output, and its inverse that reads a model's output back as a
// label. `peft train --data-format glue|e2e|webnlg|dart` and `peft eval --task ...` both build their records here, so
// the prompt an adapter is evaluated with is byte for byte the user part of the prompt it was trained on
// (record_user_prompt in prompt.h).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/dataset.h"

namespace peft {

enum class VerbalKind {
  Class,  // sst2, cola, rte, mrpc, qqp, qnli, wnli: class id 0/1 ↔ one word; mnli: 0/1/2
  Score,  // stsb: a similarity in [0, 5] ↔ the number with one decimal
  Text,   // e2e: the reference sentence is the output
};

struct VerbalTask {
  std::string name;  // "sst2", "cola", "rte", "stsb", "e2e"
  VerbalKind kind = VerbalKind::Class;
  std::string instruction;               // the record's instruction
  std::vector<std::string> words;        // Class: the output of class id 0, 1, ... (lower case)
  std::vector<std::string> label_names;  // Class: the TSV label of class id 0, 1, ...
  int64_t default_max_new_tokens = 8;    // generation budget of peft eval: GLUE 8, e2e 64
};

// The task called `name`, or nullptr.
const VerbalTask* find_verbal_task(std::string_view name);
// "sst2, cola, rte, stsb, e2e" (for help and errors).
std::string verbal_task_names();

// The record's input: the sentence (sst2, cola), "Premise: a\nHypothesis: b" (rte),
// "Sentence 1: a\nSentence 2: b" (stsb), the meaning representation (e2e).
std::string verbal_input(const VerbalTask& task, std::string_view a, std::string_view b = {});
// The record's output for a GLUE label: the class word, or the score with one decimal ("3.8").
std::string verbalise_label(const VerbalTask& task, double label);
// An instruction record of the task; `where` names the source line in later errors.
Record verbal_record(const VerbalTask& task, std::string input, std::string output, std::string where);

// What of a generated continuation is the answer: leading whitespace dropped, cut at the
// first newline or "### " header (training outputs are one line followed by EOS), stripped.
std::string first_response_line(std::string_view generated);

// Output → class id, -1 when none: the whole output equal to "0"/"1" or to a TSV label name
// (saved predictions), else the earliest verbaliser word appearing as a whole word,
// case-insensitive ("no" does not match inside "not", "acceptable" not inside "unacceptable").
int parse_class_output(const VerbalTask& task, std::string_view output);
// Output → similarity: the first number in it, clamped to [0, 5]; nullopt when none.
std::optional<double> parse_score_output(std::string_view output);

}  // namespace peft
