// Evaluation task table, default data paths, test-record loading and the eval prompt.
#include "eval/tasks.h"

#include "data/verbalisers.h"

#include <cstdlib>
#include <filesystem>

#include "io/json_file.h"

namespace peft {

namespace {
const std::vector<std::string> kLetters = {"A", "B", "C", "D", "E"};
const std::vector<std::string> kAnswers = {"answer1", "answer2", "answer3", "answer4", "answer5"};

const std::vector<EvalTask>& tasks() {
  static const std::vector<EvalTask> t = {
      {"gsm8k", "gsm8k", AnswerKind::Number, {}, 256},
      {"svamp", "SVAMP", AnswerKind::Number, {}, 256},
      {"aqua", "AQuA", AnswerKind::Letter, kLetters, 256},
      {"addsub", "AddSub", AnswerKind::Number, {}, 256},
      {"multiarith", "MultiArith", AnswerKind::Number, {}, 256},
      {"singleeq", "SingleEq", AnswerKind::Number, {}, 256},
      {"mawps", "mawps", AnswerKind::Number, {}, 256},
      {"mathqa", "mathqa", AnswerKind::Letter, kLetters, 256},
      {"boolq", "boolq", AnswerKind::Word, {"true", "false"}, 32},
      {"piqa", "piqa", AnswerKind::Word, {"solution1", "solution2"}, 32},
      {"siqa", "social_i_qa", AnswerKind::Word, kAnswers, 32},
      {"hellaswag", "hellaswag", AnswerKind::Word, {"ending1", "ending2", "ending3", "ending4"}, 32},
      {"winogrande", "winogrande", AnswerKind::Word, {"option1", "option2"}, 32},
      {"arc-e", "ARC-Easy", AnswerKind::Word, kAnswers, 32},
      {"arc-c", "ARC-Challenge", AnswerKind::Word, kAnswers, 32},
      {"obqa", "openbookqa", AnswerKind::Word, kAnswers, 32},
  };
  return t;
}
}  // namespace

std::string eval_task_names() {
  std::string s;
  for (const auto& t : tasks()) s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

Result<EvalTask> find_eval_task(std::string_view name) {
  for (const auto& t : tasks())
    if (t.name == name) return t;
  return Status::errorf("--task: unknown task '{}'; valid tasks: {}, {}, perplexity", name, eval_task_names(),
                        verbal_task_names());
}

bool is_multiple_choice(const EvalTask& task) { return task.kind != AnswerKind::Number; }

std::string default_eval_data(const EvalTask& task) {
  const char* env = std::getenv("PEFT_SHARED_DIR");
  std::string shared = (env && *env) ? env : "../shared";
  return shared + "/data/datasets/llm_adapters/dataset/" + task.folder + "/test.json";
}

Result<std::vector<EvalRecord>> load_eval_records(const std::string& path) {
  if (!std::filesystem::exists(path)) return Status::errorf("{}: data file not found", path);
  PEFT_ASSIGN_OR_RETURN(Json doc, read_json_file(path));
  if (!doc.is_array()) return Status::errorf("{}: expected a JSON array of records", path);
  if (doc.empty()) return Status::errorf("{}: no records", path);
  std::vector<EvalRecord> out;
  out.reserve(doc.size());
  for (size_t i = 0; i < doc.size(); ++i) {
    const Json& r = doc[i];
    const std::string where = fmt::format("{}: record {}", path, i);
    if (!r.is_object()) return Status::errorf("{}: expected an object", where);
    EvalRecord e;
    PEFT_ASSIGN_OR_RETURN(e.instruction, json_get_string(r, "instruction", where));
    PEFT_ASSIGN_OR_RETURN(e.input, json_get_string_or(r, "input", "", where));
    auto it = r.find("answer");
    if (it == r.end() || it->is_null()) return Status::errorf("{}: missing field 'answer'", where);
    if (it->is_string())
      e.answer = it->get<std::string>();
    else if (it->is_number())
      e.answer = it->dump();
    else
      return Status::errorf("{}: field 'answer' must be a string or a number, found {}", where, it->type_name());
    out.push_back(std::move(e));
  }
  return out;
}

std::string eval_prompt(std::string_view instruction, std::string_view input) {
  const std::string ind(16, ' ');
  std::string s;
  if (!input.empty()) {
    s = "Below is an instruction that describes a task, paired with an input that provides "
        "further context. Write a response that appropriately completes the request.\n\n";
    s += ind + "### Instruction:\n" + ind + std::string(instruction) + "\n\n";
    s += ind + "### Input:\n" + ind + std::string(input) + "\n\n";
  } else {
    s = "Below is an instruction that describes a task. Write a response that appropriately "
        "completes the request. \n\n";
    s += ind + "### Instruction:\n" + ind + std::string(instruction) + "\n\n";
  }
  s += ind + "### Response:\n" + ind;
  return s;
}

}  // namespace peft
