// LLM-Adapters' prompt template (finetune.py generate_prompt), byte for byte.
#pragma once
#include <string>
#include <string_view>

#include "train/dataset.h"

namespace peft {

// generate_prompt(data_point) of AGI-Edgerunners/LLM-Adapters finetune.py, including its
// quirks: a trailing space (one with input, two without) after the first sentence, every
// later line indented by 16 spaces, and the blank lines between sections made of 16 spaces.
// The "with input" form is used when `input` is non-empty (Python's truthiness of a str).
std::string generate_prompt(std::string_view instruction, std::string_view input, std::string_view output);

// The full training text of a record: the template for instruction records, `text` as is.
std::string record_prompt(const Record& record);
// The part not trained on when train_on_inputs is false: the template with output "";
// empty for text records (all of a text record is trained on).
std::string record_user_prompt(const Record& record);

}  // namespace peft
