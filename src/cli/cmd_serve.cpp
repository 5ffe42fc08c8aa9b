// peft serve: an OpenAI-compatible server over one base model and many adapters.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include "cli/command.h"
#include "cli/common.h"
#include "serve/server.h"

namespace peft::cli {

namespace {

struct ServeArgs {
  serve::ServeOptions opt;
  std::vector<std::string> adapters;  // NAME=PATH
  std::string base_dtype;
};

int g_signal_pipe[2] = {-1, -1};
extern "C" void on_signal(int) {
  const char c = 1;
  [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &c, 1);
}

Status run_serve(ServeArgs& a) {
  for (const std::string& spec : a.adapters) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      return Status::errorf("--adapter '{}': expected NAME=PATH", spec);
    a.opt.adapters.emplace_back(spec.substr(0, eq), spec.substr(eq + 1));
  }
  PEFT_ASSIGN_OR_RETURN(a.opt.load, load_options_from_flag(a.base_dtype));
  PEFT_ASSIGN_OR_RETURN(auto server, serve::Server::create(a.opt));
  // SIGINT/SIGTERM stop the server cleanly: requests still running end, the port closes.
  if (::pipe(g_signal_pipe) != 0) return Status::error("cannot create the signal pipe");
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);  // a client that left is a failed write, not a dead server
  std::thread watcher([&server] {
    char c;
    if (::read(g_signal_pipe[0], &c, 1) == 1) server->stop();
  });
  const std::string host = a.opt.host;
  Status st = server->run([&host](int port) {
    std::fprintf(stderr, "peft serve: listening on http://%s:%d\n", host.c_str(), port);
    std::fflush(stderr);
  });
  on_signal(0);  // release the watcher
  watcher.join();
  return st;
}

}  // namespace

void add_serve(CLI::App& app, Action& action) {
  auto args = std::make_shared<ServeArgs>();
  serve::ServeOptions& o = args->opt;
  CLI::App* sub = app.add_subcommand(
      "serve",
      "serve the model over HTTP (OpenAI-compatible /v1/completions, /v1/chat/completions), adapters mixed "
      "in one batch");
  sub->add_option("--model", o.model_path, "model folder or GGUF file")->required();
  sub->add_option("--adapter", args->adapters,
                  "NAME=PATH: an adapter (PEFT folder or GGUF LoRA) always loaded, requested as \"model\": NAME; "
                  "repeatable");
  sub->add_option("--adapter-dir", o.adapter_dir,
                  "folder of adapters loaded on first use by name (\"model\": \"<sub-folder>\"); nothing outside it "
                  "resolves");
  sub->add_option("--max-loaded-adapters", o.max_loaded_adapters,
                  "adapters from --adapter-dir kept in memory, least recently used leave first (default 8)");
  sub->add_option("--host", o.host, "address to listen on (default 127.0.0.1)");
  sub->add_option("--port", o.port, "port (default 8080; 0 = any free port, printed)");
  sub->add_option("--max-batch", o.max_batch, "requests decoded together in one step (default 8)");
  sub->add_option("--max-queue", o.max_queue, "accepted requests waiting for a row; beyond it 503 (default 32)");
  sub->add_option("--max-model-len", o.max_model_len, "prompt + max_tokens per request (default the model's context)");
  sub->add_option("--max-tokens-limit", o.max_tokens_limit, "the largest max_tokens accepted (default max-model-len)");
  sub->add_option("--max-body-bytes", o.max_body_bytes, "largest request body; beyond it 413 (default 1 MiB)");
  sub->add_option("--request-timeout", o.request_timeout_s,
                  "seconds a request may run; then it ends with what it has, finish_reason \"length\" (default 600)");
  sub->add_option("--served-model-name", o.served_model_name,
                  "the base model's name in the API (default the folder name)");
  sub->add_option("--chat-template", o.chat_template, "chat template file (.jinja) instead of the model's");
  sub->add_option("--base-dtype", args->base_dtype,
                  "base weights: f32, bf16, or q8_0|q4_0|q4_k|nf4 (quantized at load); default the checkpoint's own");
  sub->callback([args, &action] { action = [args] { return run_serve(*args); }; });
}

}  // namespace peft::cli
