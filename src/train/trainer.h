// The training loop behind `peft train`: data → adapter → AdamW steps → checkpoints and metrics.
#pragma once
#include <cstdint>
#include <string>

#include "core/status.h"
#include "train/train_config.h"

namespace peft {

struct TrainSummary {
  int64_t steps = 0;
  int64_t trainable_params = 0;
  double first_loss = 0, last_loss = 0;
  double val_loss = -1;     // < 0 when there is no validation set
  double tokens_per_s = 0;  // non-pad tokens through forward + backward per second
  int64_t train_examples = 0, val_examples = 0, truncated = 0;
};

// Runs the whole job. The output folder gets adapter_config.json + adapter_model.safetensors
// (PEFT format), metrics.jsonl, train_summary.json and checkpoint-STEP/ folders; every file
// is written atomically.
Result<TrainSummary> train(const TrainConfig& config);

}  // namespace peft
