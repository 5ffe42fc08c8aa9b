// peft report: one self-contained HTML page of run folders' loss curves and eval results.
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "eval/report.h"
#include "io/atomic_output.h"
#include "io/output_target.h"

namespace peft::cli {

namespace {
struct ReportArgs {
  std::vector<std::string> runs;
  std::string out;
  bool overwrite = false;
};

Status run_report(const ReportArgs& a) {
  PEFT_TRY(check_output_file(a.out, a.overwrite));
  std::vector<RunData> runs;
  for (const auto& d : a.runs) {
    PEFT_ASSIGN_OR_RETURN(RunData r, load_run(d));
    runs.push_back(std::move(r));
  }
  PEFT_TRY(write_file_atomic(a.out, render_report(runs)));
  std::printf("wrote %s (%zu runs)\n", a.out.c_str(), runs.size());
  return Status::ok();
}
}  // namespace

void add_report(CLI::App& app, Action& action) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* sub = app.add_subcommand("report", "HTML report of training runs and eval results");
  sub->add_option("runs", args->runs, "run or eval folders (metrics.jsonl and/or results.json)")->required();
  sub->add_option("--out", args->out, "the HTML file to write (new)")->required();
  sub->add_flag("--overwrite", args->overwrite, "replace an existing output file");
  sub->callback([args, &action] { action = [args] { return run_report(*args); }; });
}

}  // namespace peft::cli
