// LLM-Adapters' prompt template; the whitespace is theirs and must not be "fixed".
#include "data/prompt.h"

namespace peft {

namespace {
// Sixteen spaces: the f-string's source indentation, which Python keeps inside """ strings.
constexpr std::string_view kIndent = "                ";
}  // namespace

size_t FieldOffsets::of(std::string_view field) const {
  if (field == "instruction") return instruction;
  if (field == "input") return input;
  if (field == "output") return output;
  return text;
}

std::string generate_prompt(std::string_view instruction, std::string_view input, std::string_view output) {
  FieldOffsets unused;
  return generate_prompt(instruction, input, output, unused);
}

// One implementation records the offsets as it appends, so they cannot drift from the bytes.
std::string generate_prompt(std::string_view instruction, std::string_view input, std::string_view output,
                            FieldOffsets& at) {
  std::string s;
  s.reserve(instruction.size() + input.size() + output.size() + 400);
  if (!input.empty()) {
    s += "Below is an instruction that describes a task, paired with an input that provides further context. "
         "Write a response that appropriately completes the request. \n\n";
    s.append(kIndent).append("### Instruction:\n").append(kIndent);
    at.instruction = s.size();
    s.append(instruction).append("\n");
    s.append(kIndent).append("\n");
    s.append(kIndent).append("### Input:\n").append(kIndent);
    at.input = s.size();
    s.append(input).append("\n");
    s.append(kIndent).append("\n");
  } else {
    s += "Below is an instruction that describes a task. "
         "Write a response that appropriately completes the request.  \n\n";
    s.append(kIndent).append("### Instruction:\n").append(kIndent);
    at.instruction = s.size();
    s.append(instruction).append("\n");
    s.append(kIndent).append("\n");
    at.input = s.size();
  }
  s.append(kIndent).append("### Response:\n").append(kIndent);
  at.output = s.size();
  s.append(output);
  return s;
}

std::string record_prompt(const Record& record) {
  FieldOffsets unused;
  return record_prompt(record, unused);
}

std::string record_prompt(const Record& record, FieldOffsets& offsets) {
  offsets = FieldOffsets{};
  if (record.kind == RecordKind::Text) return record.text;
  return generate_prompt(record.instruction, record.input, record.output, offsets);
}

std::string record_user_prompt(const Record& record) {
  if (record.kind == RecordKind::Text) return {};
  return generate_prompt(record.instruction, record.input, "");
}

}  // namespace peft
