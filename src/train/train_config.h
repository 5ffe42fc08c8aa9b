// TrainConfig: every `peft train` setting, LLM-Adapters' finetune.py defaults, self-validating.
#pragma once
#include <cstdint>
#include <string>

#include "adapters/registry.h"
#include "core/status.h"
#include "io/json_file.h"

namespace peft {

struct TrainConfig {
  std::string model;   // model folder (or GGUF)
  std::string data;    // JSON / JSONL data file
  std::string output;  // output folder
  std::string method = default_method_name();
  std::string config_file;              // optional adapter_config.json with the method's settings
  Json method_config = Json::object();  // method fields from flags (override config_file)
  std::string resume;                   // checkpoint folder to continue from
  std::string data_format = "auto";
  std::string base_dtype;  // "", f32, bf16
  // Encoders: "" (the checkpoint's head; a GLUE file gives an encoder a sequence head), seq-cls,
  // token-cls, causal-lm (a decoder). reinit_head: a new head where the checkpoint's has another size.
  std::string task_type;
  bool reinit_head = false;

  // Optimisation (Hugging Face Trainer semantics).
  double learning_rate = 3e-4;
  int64_t batch_size = 128;      // examples per optimizer step
  int64_t micro_batch_size = 4;  // examples per forward; batch_size / micro = accumulation
  int64_t epochs = 3;
  int64_t max_steps = -1;  // > 0 overrides epochs
  int64_t warmup_steps = 100;
  double warmup_ratio = 0;  // > 0: warmup = ceil(ratio · total steps), replacing warmup_steps
  std::string lr_scheduler = "linear";
  double weight_decay = 0.0;
  double adam_beta1 = 0.9, adam_beta2 = 0.999, adam_eps = 1e-8;
  double max_grad_norm = 1.0;

  // Data.
  int64_t cutoff_len = 256;
  int64_t val_set_size = 2000;
  bool train_on_inputs = true;
  // Whether --train-on-inputs was given: chat records train on the assistant turns only unless
  // it says true (instruction records keep LLM-Adapters' default, true).
  bool train_on_inputs_given = false;
  std::string chat_template;  // chat records: this template file instead of the model's own
  bool group_by_length = false;
  uint64_t seed = 42;

  // Memory: recompute each block's activations in the backward (DecoderOptions).
  bool gradient_checkpointing = false;
  bool overwrite = false;  // a non-empty output folder: replace what training writes, keep the rest

  // Bookkeeping.
  int64_t eval_steps = 200;
  int64_t save_steps = 200;
  int64_t logging_steps = 10;

  // Names the first bad field ("--micro-batch-size must divide --batch-size ...").
  Status validate() const;
  // The settings a resumed run must share with the run that wrote the checkpoint.
  Json identity() const;
};

}  // namespace peft
