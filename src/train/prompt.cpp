// LLM-Adapters' prompt template; the whitespace is theirs and must not be "fixed".
#include "train/prompt.h"

namespace peft {

namespace {
// Sixteen spaces: the f-string's source indentation, which Python keeps inside """ strings.
constexpr std::string_view kIndent = "                ";
}  // namespace

std::string generate_prompt(std::string_view instruction, std::string_view input, std::string_view output) {
  std::string s;
  s.reserve(instruction.size() + input.size() + output.size() + 400);
  if (!input.empty()) {
    s += "Below is an instruction that describes a task, paired with an input that provides further context. "
         "Write a response that appropriately completes the request. \n\n";
    s.append(kIndent).append("### Instruction:\n").append(kIndent).append(instruction).append("\n");
    s.append(kIndent).append("\n");
    s.append(kIndent).append("### Input:\n").append(kIndent).append(input).append("\n");
    s.append(kIndent).append("\n");
  } else {
    s += "Below is an instruction that describes a task. "
         "Write a response that appropriately completes the request.  \n\n";
    s.append(kIndent).append("### Instruction:\n").append(kIndent).append(instruction).append("\n");
    s.append(kIndent).append("\n");
  }
  s.append(kIndent).append("### Response:\n").append(kIndent).append(output);
  return s;
}

std::string record_prompt(const Record& record) {
  if (record.kind == RecordKind::Text) return record.text;
  return generate_prompt(record.instruction, record.input, record.output);
}

std::string record_user_prompt(const Record& record) {
  if (record.kind == RecordKind::Text) return {};
  return generate_prompt(record.instruction, record.input, "");
}

}  // namespace peft
