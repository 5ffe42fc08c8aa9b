// `peft train --preset NAME`: published recipes as flag lists. A preset's flags go in front of
// the user's, so any flag given on the command line overrides the preset's value (flags take
// their last value).
#pragma once
#include <string>
#include <vector>

#include "core/status.h"

namespace peft {

struct TrainPreset {
  const char* name;
  const char* source;  // where the numbers come from (a file of a public repository)
  std::vector<std::string> flags;
};

const std::vector<TrainPreset>& train_presets();
std::string train_preset_names();  // "adamix-glue-roberta, ..."

// argv with every "--preset NAME" / "--preset=NAME" after the "train" subcommand replaced by the
// preset's flags placed right after "train"; a preset flag the user's replaces (their
// --max-steps the preset's --epochs, one warmup form the other) is dropped. Errors: an unknown
// name, --preset without a value.
Result<std::vector<std::string>> expand_train_presets(const std::vector<std::string>& args);

}  // namespace peft
