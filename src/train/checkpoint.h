// Training checkpoints: adapter + optimizer moments + trainer state, written atomically.
#pragma once
#include <string>

#include "adapters/adapter.h"
#include "core/status.h"
#include "io/json_file.h"
#include "train/optimizer.h"

namespace peft {

// What besides the adapter and the optimizer a run needs to continue bit for bit.
struct TrainerState {
  int64_t step = 0;             // optimizer steps done
  Json batcher;                 // BatcherState as JSON
  Json identity;                // TrainConfig::identity() of the run
  Json extra = Json::object();  // losses so far, tokens, ...
};

// `dir` (e.g. OUT/checkpoint-200) is built in a temporary sibling and renamed into place.
Status save_checkpoint(const std::string& dir, const Adapter& adapter, AdamW& optimizer, const TrainerState& state,
                       const std::string& base_model_path);

// Restores parameters, moments and the state into an adapter/optimizer built for the same
// configuration; errors if the checkpoint's identity differs (naming the field).
Result<TrainerState> load_checkpoint(const std::string& dir, Adapter& adapter, AdamW& optimizer,
                                     const Json& expected_identity);

}  // namespace peft
