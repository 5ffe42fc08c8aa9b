// `peft serve`: an OpenAI-compatible HTTP server over one base model and many adapters, with
// mixed-adapter continuous batching (serve/batch_engine.h) on a scheduler thread.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace peft::serve {

struct ServeOptions {
  std::string model_path;
  LoadOptions load;
  std::string served_model_name;                              // empty: the model path's last component
  std::vector<std::pair<std::string, std::string>> adapters;  // --adapter NAME=PATH, pinned
  std::string adapter_dir;                                    // --adapter-dir: on-demand adapters
  std::string chat_template;                                  // a .jinja file instead of the model's
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (printed)
  int64_t max_batch = 8;
  int64_t max_loaded_adapters = 8;
  int64_t max_queue = 32;        // accepted requests waiting for a row; more get 503
  int64_t max_model_len = 0;     // prompt + max_tokens; 0: the model's context
  int64_t max_tokens_limit = 0;  // the largest max_tokens accepted; 0: max_model_len
  int64_t max_body_bytes = 1 << 20;
  double request_timeout_s = 600;  // a request still running then ends, finish_reason "length"
};

class Server {
 public:
  // Loads the model, its tokenizer, chat template and the pinned adapters.
  static Result<std::unique_ptr<Server>> create(const ServeOptions& options);
  ~Server();
  // Binds and serves until stop(); calls on_listening(port) once bound.
  Status run(const std::function<void(int port)>& on_listening);
  // From any thread (a signal handler's watcher): finishes running requests as cancelled,
  // stops the scheduler and the listener.
  void stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace peft::serve
