// Evaluation tasks of LLM-Adapters (math and commonsense): names, files, prompt, records.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace peft {

enum class AnswerKind {
  Number,  // math: last number in the output, |pred - label| <= 0.001
  Letter,  // AQuA / MathQA: first capital letter A-E in the output
  Word,    // commonsense: first occurrence of one of the task's answer words
};

struct EvalTask {
  std::string name;    // our name: "gsm8k", "arc-e", ...
  std::string folder;  // LLM-Adapters' dataset folder: "gsm8k", "ARC-Easy", ...
  AnswerKind kind = AnswerKind::Number;
  std::vector<std::string> words;  // Word: the answer family in regex-alternation order; Letter: A..E
  int64_t default_max_new_tokens;  // 256 math (evaluate.py), 32 commonsense (commonsense_evaluate.py)
};

// The task called `name`; the error lists every valid name.
Result<EvalTask> find_eval_task(std::string_view name);
// All task names, comma-separated (for help and errors).
std::string eval_task_names();
// Whether likelihood scoring applies (a closed set of answers): Word and Letter tasks.
bool is_multiple_choice(const EvalTask& task);

// The default test file: $PEFT_SHARED_DIR (else "../shared") +
// "/data/datasets/llm_adapters/dataset/<folder>/test.json".
std::string default_eval_data(const EvalTask& task);

// One test record: the prompt fields and the label (the "answer" field as text).
struct EvalRecord {
  std::string instruction;
  std::string input;
  std::string answer;
};

// Reads a JSON array of {"instruction", "input"?, "answer"} (LLM-Adapters' test.json). A
// numeric "answer" is accepted and printed as text. Errors name the file and the record.
Result<std::vector<EvalRecord>> load_eval_records(const std::string& path);

// generate_prompt(instruction, input) of LLM-Adapters' evaluate.py / commonsense_evaluate.py,
// byte for byte: unlike finetune.py's, its blank lines are empty, and the no-input form has
// one trailing space after the first paragraph. (Their scripts always pass input=None; we use
// the with-input form when a record's input is non-empty — never the case in their files.)
std::string eval_prompt(std::string_view instruction, std::string_view input);

}  // namespace peft
