// LLM-Adapters' prompt template (finetune.py generate_prompt), byte for byte.
#pragma once
#include <string>
#include <string_view>

#include "data/dataset.h"

namespace peft {

// generate_prompt(data_point) of AGI-Edgerunners/LLM-Adapters finetune.py, including its
// quirks: a trailing space (one with input, two without) after the first sentence, every
// later line indented by 16 spaces, and the blank lines between sections made of 16 spaces.
// The "with input" form is used when `input` is non-empty (Python's truthiness of a str).
std::string generate_prompt(std::string_view instruction, std::string_view input, std::string_view output);

// Byte offset of each field's first byte in the rendered prompt (segments are placed on the
// prompt through these; text records: text at 0, the rest unused). `input` is where an
// input would go when the record has none: nothing of it is rendered then.
struct FieldOffsets {
  size_t instruction = 0, input = 0, output = 0, text = 0;
  size_t of(std::string_view field) const;  // "instruction", "input", "output", "text"
};
// The same bytes as generate_prompt, with where it put each field.
std::string generate_prompt(std::string_view instruction, std::string_view input, std::string_view output,
                            FieldOffsets& offsets);

// The full training text of a record: the template for instruction records, `text` as is.
std::string record_prompt(const Record& record);
std::string record_prompt(const Record& record, FieldOffsets& offsets);
// The part not trained on when train_on_inputs is false: the template with output "";
// empty for text records (all of a text record is trained on).
std::string record_user_prompt(const Record& record);

}  // namespace peft
