// A self-contained HTML report (inline SVG, no network) of training runs and eval results.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"

namespace peft {

struct RunData {
  std::string name;                              // the folder as given
  std::vector<std::pair<double, double>> loss;   // (step, loss) from metrics.jsonl
  std::vector<std::pair<double, double>> val;    // (step, val_loss)
  std::vector<Json> results;                     // results.json of the folder (if any)
};

// Reads RUN_DIR/metrics.jsonl (lines with "step" and "loss", optional "val_loss"/"eval_loss")
// and RUN_DIR/results.json. A folder with neither is an error naming it; a bad line names
// the file and line.
Result<RunData> load_run(const std::string& dir);

// The whole page: a loss-curve chart (one polyline per run, validation points as dots),
// a summary table per run, and a table of eval results.
std::string render_report(const std::vector<RunData>& runs);

// "<", ">", "&", '"' escaped for HTML text and attributes.
std::string html_escape(const std::string& s);

}  // namespace peft
