// GLUE rows as a task head's examples: the sentence (or pair) through the tokenizer's pair
// template, as transformers' tokenizer(a, b, truncation=True, max_length=L) gives them, and the
// label as the head reads it.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "data/glue_e2e.h"
#include "data/tokenize_example.h"
#include "model/task_head.h"
#include "tokenizer/tokenizer.h"

namespace peft {

// Checks that a head can learn a GLUE task: a classification task needs a single-label head
// with as many labels as the task has classes, STS-B a regression head with one output.
// Errors name `where` (the data file), the task and the head, and how to get a fitting head.
Status check_head_fits(const TaskSpec& head, const VerbalTask& task, const std::string& where);

// ids = the tokenizer's template around text_a (and text_b: Tokenizer::encode_pair); when they
// exceed max_len, tokens are cut from the end of the longer text, one at a time (transformers'
// "longest_first"), the special tokens kept. token_types are the template's; task_labels =
// {label}; labels all kIgnoreLabel.
Result<TokenizedExample> classifier_example(const Tokenizer& tok, const VerbalRow& row, int64_t max_len,
                                            const std::string& where);

// Every row of `file`, checked against the head. Errors name the file and line.
Result<std::vector<TokenizedExample>> classifier_examples(const Tokenizer& tok, const VerbalFile& file,
                                                          const TaskSpec& head, int64_t max_len,
                                                          const std::string& name);

}  // namespace peft
