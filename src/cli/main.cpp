// peft: the command-line entry point; the only place an error becomes an exit code.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "cli/command.h"
#include "core/threads.h"
#include "dist/comm.h"
#include "train/presets.h"

int main(int argc, char** argv) {
  CLI::App app{"peft.cpp — parameter-efficient fine-tuning of transformer language models on the CPU"};
  app.require_subcommand(1);
  app.fallthrough();  // subcommands pass --threads up, so it may follow the verb
  app.set_version_flag("--version", "peft.cpp 0.1.0");
  int threads = 0;
  app.add_option("--threads", threads,
                 "worker threads (default: OMP_NUM_THREADS, else the cores other processes leave free, "
                 "re-measured between steps)");

  peft::cli::Action action;
  peft::cli::add_convert(app, action);
  peft::cli::add_tokenize(app, action);
  peft::cli::add_inspect(app, action);
  peft::cli::add_logits(app, action);
  peft::cli::add_generate(app, action);
  peft::cli::add_train(app, action);
  peft::cli::add_merge(app, action);
  peft::cli::add_export(app, action);
  peft::cli::add_eval(app, action);
  peft::cli::add_report(app, action);
  peft::cli::add_bench(app, action);
  peft::cli::add_chat_template(app, action);
  peft::cli::add_serve(app, action);

  // `peft train --preset NAME`: the preset's flags in front of the user's (train/presets.h).
  std::vector<std::string> args(argv, argv + argc);
  auto expanded = peft::expand_train_presets(args);
  if (!expanded.is_ok()) {
    std::fprintf(stderr, "error: %s\n", expanded.status().message().c_str());
    return 2;
  }
  std::vector<char*> parse_argv;
  for (std::string& a : *expanded) parse_argv.push_back(a.data());
  // Exit codes: 0 success, 1 bad input or a failure while running, 2 a usage error.
  try {
    app.parse(int(parse_argv.size()), parse_argv.data());
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help/version (code 0) or the usage error
    return code == 0 ? 0 : 2;
  }
  // No number flag may be NaN or infinite (CLI11 reads "nan" and "inf" as doubles): a NaN
  // learning rate trains a NaN adapter with exit code 0.
  for (const CLI::App* sub : app.get_subcommands())
    for (const CLI::Option* opt : sub->get_options())
      if (opt->get_type_name().find("FLOAT") != std::string::npos)
        for (const std::string& v : opt->results()) {
          char* end = nullptr;
          const double x = std::strtod(v.c_str(), &end);
          if (end != v.c_str() && !std::isfinite(x)) {
            std::fprintf(stderr, "error: %s must be a finite number, found '%s'\n", opt->get_name().c_str(), v.c_str());
            return 2;
          }
        }
  // More threads than cores only oversubscribe them (and 1e5 threads exhaust the process).
  peft::Status status;
  if (threads < 0) {
    std::fprintf(stderr, "error: --threads must be >= 0 (0 = automatic), found %d\n", threads);
    return 2;
  }
  if (threads > peft::available_cores()) {
    std::fprintf(stderr, "warning: --threads %d exceeds the %d cores available; using %d\n", threads,
                 peft::available_cores(), peft::available_cores());
    threads = peft::available_cores();
  }
  peft::set_num_threads(threads);
  if (!action) return 0;
  // Under mpirun/srun, one process of a data-parallel job (dist/comm.h); otherwise nothing.
  peft::dist::init(&argc, &argv);
  struct Finalize {
    ~Finalize() { peft::dist::finalize(); }
  } finalize;
  try {
    if (status.is_ok()) status = action();
  } catch (const std::bad_alloc&) {
    status = peft::Status::error(
        "out of memory: the command needs more than this machine can give it (smaller "
        "batch, sequence length, rank or model?)");
  } catch (const std::exception& e) {
    status = peft::Status::errorf("internal error: {}", e.what());
  }
  if (!status.is_ok()) {
    std::fprintf(stderr, "error: %s%s\n", peft::dist::rank_prefix().c_str(), status.message().c_str());
    return 1;
  }
  return 0;
}
