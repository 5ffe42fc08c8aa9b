// The training output folder: what may be in it, who may write it, what a resume keeps.
#pragma once
#include <optional>
#include <string>

#include "core/status.h"
#include "io/output_target.h"

namespace peft {

// The files and folders `peft train` writes into its output folder.
bool is_train_output_entry(const std::string& name);

// Before anything is loaded: `output` must be a folder that is new, empty, the folder the
// resumed checkpoint lives in, or — with `overwrite` — anything else. Takes the folder's
// lock for the whole run; creates nothing.
struct TrainOutput {
  std::string dir;
  bool in_place = false;  // resuming from one of its own checkpoints
  bool overwrite = false;
  OutputLock lock;
  // Once the run is set up (nothing failed): creates the folder, removes temporaries that
  // killed runs left and — with overwrite, unless resuming in place — what an earlier run
  // wrote there (is_train_output_entry), keeping everything else.
  Status open();
};
Result<TrainOutput> prepare_train_output(const std::string& output, const std::string& resume, bool overwrite);

// metrics.jsonl of a resumed run: the records after the checkpoint's step are the ones the
// run repeats, so they are cut (atomically) before appending.
Status truncate_metrics(const std::string& path, int64_t step);

}  // namespace peft
