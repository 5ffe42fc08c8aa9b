// peft: the command-line entry point; the only place an error becomes an exit code.
#include <cstdio>

#include "cli/command.h"
#include "core/threads.h"

int main(int argc, char** argv) {
  CLI::App app{"peft.cpp — parameter-efficient fine-tuning of transformer language models on the CPU"};
  app.require_subcommand(1);
  app.fallthrough();  // subcommands pass --threads up, so it may follow the verb
  app.set_version_flag("--version", "peft.cpp 0.1.0");
  int threads = 0;
  app.add_option("--threads", threads, "worker threads (default: all cores)");

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  peft::set_num_threads(threads);
  if (!action) return 0;
  peft::Status status = action();
  if (!status.is_ok()) {
    std::fprintf(stderr, "error: %s\n", status.message().c_str());
    return 1;
  }
  return 0;
}
