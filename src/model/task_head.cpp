// config.json → TaskSpec.
#include "model/task_head.h"

namespace peft {

std::string modules_to_save_entry(const std::string& module) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t dot = module.find('.', start);
    parts.push_back(module.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  for (const std::string& p : parts)
    if (is_default_module_to_save(p)) return p;
  return parts.size() >= 2 ? parts[parts.size() - 2] : parts.back();
}

bool is_default_module_to_save(const std::string& entry) { return entry == "classifier" || entry == "score"; }

const char* task_type_name(TaskType t) {
  switch (t) {
    case TaskType::CausalLm:
      return "causal-lm";
    case TaskType::SeqCls:
      return "seq-cls";
    case TaskType::TokenCls:
      return "token-cls";
  }
  return "?";
}

const char* peft_task_type(TaskType t) {
  switch (t) {
    case TaskType::CausalLm:
      return "CAUSAL_LM";
    case TaskType::SeqCls:
      return "SEQ_CLS";
    case TaskType::TokenCls:
      return "TOKEN_CLS";
  }
  return "?";
}

const char* problem_type_name(ProblemType p) {
  switch (p) {
    case ProblemType::SingleLabel:
      return "single_label_classification";
    case ProblemType::MultiLabel:
      return "multi_label_classification";
    case ProblemType::Regression:
      return "regression";
  }
  return "?";
}

Result<TaskSpec> task_from_config(const Json& config, const std::string& where) {
  TaskSpec spec;
  if (config.contains("architectures") && config["architectures"].is_array() && !config["architectures"].empty() &&
      config["architectures"][0].is_string()) {
    const std::string a = config["architectures"][0].get<std::string>();
    if (a.ends_with("ForSequenceClassification")) spec.task = TaskType::SeqCls;
    if (a.ends_with("ForTokenClassification")) spec.task = TaskType::TokenCls;
  }
  if (spec.task == TaskType::CausalLm) return spec;
  if (config.contains("id2label") && config["id2label"].is_object() && !config["id2label"].empty()) {
    spec.num_labels = int64_t(config["id2label"].size());
  } else {
    PEFT_ASSIGN_OR_RETURN(spec.num_labels, json_get_int_or(config, "num_labels", 2, where));
  }
  if (spec.num_labels < 1)
    return Status::errorf("{}: the head needs at least one label, found {}", where, spec.num_labels);
  PEFT_ASSIGN_OR_RETURN(std::string problem, json_get_string_or(config, "problem_type", "", where));
  if (problem.empty())
    spec.problem = spec.num_labels == 1 ? ProblemType::Regression : ProblemType::SingleLabel;
  else if (problem == "regression")
    spec.problem = ProblemType::Regression;
  else if (problem == "single_label_classification")
    spec.problem = ProblemType::SingleLabel;
  else if (problem == "multi_label_classification")
    spec.problem = ProblemType::MultiLabel;
  else
    return Status::errorf(
        "{}: problem_type '{}' is not one of regression, single_label_classification, multi_label_classification",
        where, problem);
  return spec;
}

}  // namespace peft
