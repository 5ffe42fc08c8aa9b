// Each subcommand lives in cmd_<verb>.cpp and registers itself on the CLI11 app.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>

#include "core/status.h"

namespace peft::cli {

// What the chosen subcommand will run once parsing succeeded.
using Action = std::function<Status()>;

// add_<verb>(app, action): adds the subcommand and its options to `app`; when the
// subcommand is selected, its parse callback stores the work to do in `action`.
void add_convert(CLI::App& app, Action& action);
void add_tokenize(CLI::App& app, Action& action);
void add_inspect(CLI::App& app, Action& action);
void add_logits(CLI::App& app, Action& action);
void add_generate(CLI::App& app, Action& action);
void add_train(CLI::App& app, Action& action);
void add_merge(CLI::App& app, Action& action);
void add_export(CLI::App& app, Action& action);
void add_eval(CLI::App& app, Action& action);
void add_report(CLI::App& app, Action& action);
void add_bench(CLI::App& app, Action& action);
void add_chat_template(CLI::App& app, Action& action);
void add_serve(CLI::App& app, Action& action);

}  // namespace peft::cli
