// A self-contained HTML report (inline SVG, no network) of training runs and eval results.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "eval/report_svg.h"  // html_escape
#include "io/json_file.h"

namespace peft {

struct RunData {
  std::string name;    // the folder as given
  std::string method;  // the adapter's method (peft_type, lower case), "base" (no adapter), or "" (unknown)
  std::vector<std::pair<double, double>> loss;          // (step, loss) from metrics.jsonl
  std::vector<std::pair<double, double>> val;           // (step, val_loss)
  std::vector<std::pair<double, double>> lr;            // (step, lr)
  std::vector<std::pair<double, double>> tokens_per_s;  // (step, tokens_per_s): the trainer's running average
  std::vector<Json> results;                            // results.json of the folder (if any)
};

// Reads RUN_DIR/metrics.jsonl (lines with "step" and any of "loss", "val_loss"/"eval_loss",
// "lr", "tokens_per_s") and RUN_DIR/results.json. The method comes from the folder's
// adapter_config.json (a training run) or from the adapter its results.json names (an eval
// run; none → "base"). A folder with neither file is an error naming it; a bad line names
// the file and line.
Result<RunData> load_run(const std::string& dir);

// The main metric of an eval result for cross-run comparison (higher is better):
// "matthews" (CoLA), "pearson" (STS-B), "bleu" (E2E), else "accuracy"; "" when it has none
// of them (perplexity).
std::string main_metric(const Json& results);

// The whole page: charts of training loss (validation as dots), learning rate and tokens/s
// per step (one line per run), a bar chart of each task's main metric across runs, a
// summary table per run and a table of eval results.
std::string render_report(const std::vector<RunData>& runs);

}  // namespace peft
