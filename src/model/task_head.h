// Task heads of encoder checkpoints: what …ForSequenceClassification and …ForTokenClassification
// put on top of the encoder, as a list of (linear, activation) layers each architecture names.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"
#include "kernels/activations.h"

namespace peft {

enum class TaskType {
  CausalLm,  // the LM head (decoders); encoders without a task head have no output
  SeqCls,    // one prediction per row, from the row's first position (BERT's [CLS])
  TokenCls,  // one prediction per position
};
// How transformers' sequence classifiers choose the loss (config.problem_type).
enum class ProblemType {
  SingleLabel,  // cross-entropy over num_labels classes, labels class ids
  MultiLabel,   // binary cross-entropy with logits, labels (B, num_labels) of 0/1
  Regression,   // mean squared error, num_labels outputs (usually 1)
};

// One layer of a head: y = act(x Wᵀ + b). `module` is the Hugging Face module name
// ("classifier.dense"); `trainable` layers are what PEFT's modules_to_save copies (the
// "classifier" module), the others (BERT's pooler) stay with the frozen base.
struct HeadLayerSpec {
  std::string module;
  int64_t out = 0, in = 0;
  Activation act = Activation::Identity;
  bool trainable = false;
};

struct TaskSpec {
  TaskType task = TaskType::CausalLm;
  ProblemType problem = ProblemType::SingleLabel;
  int64_t num_labels = 0;
};

// The task a Hugging Face config.json describes: its "architectures" entry
// (…ForSequenceClassification, …ForTokenClassification; anything else is CausalLm), the
// label count (id2label's size, else num_labels, else 2 as PretrainedConfig has it) and
// problem_type (absent: regression for one label, single-label otherwise, as transformers
// decides for integer labels). Errors name `where`.
Result<TaskSpec> task_from_config(const Json& config, const std::string& where);

// The PEFT modules_to_save entry that covers head layer `module`: "classifier" for
// "classifier" and "classifier.out_proj", the layer's parent for others ("bert.pooler.dense"
// → "pooler"). PEFT's sequence/token classifiers save "classifier" and "score" by default.
std::string modules_to_save_entry(const std::string& module);
bool is_default_module_to_save(const std::string& entry);

const char* task_type_name(TaskType t);        // "causal-lm", "seq-cls", "token-cls"
const char* problem_type_name(ProblemType p);  // transformers' problem_type strings
const char* peft_task_type(TaskType t);        // PEFT's task_type: CAUSAL_LM, SEQ_CLS, TOKEN_CLS

}  // namespace peft
