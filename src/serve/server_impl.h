// What the server's parts share: the model, adapters, engine, scheduler inbox and metrics.
#pragma once
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "data/chat_prompt.h"
#include "serve/adapter_cache.h"
#include "serve/batch_engine.h"
#include "serve/metrics.h"
#include "serve/request_state.h"
#include "serve/server.h"
#include "tokenizer/tokenizer.h"

namespace peft::serve {

struct Server::Impl {
  ServeOptions opt;
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tok;
  std::optional<ChatPrompt> chat;  // absent: the model has no chat template (chat requests get 400)
  std::string chat_error;          // why, for that 400
  std::string model_name;
  int64_t max_model_len = 0, max_tokens_limit = 0;
  std::unique_ptr<AdapterCache> adapters;
  std::unique_ptr<BatchEngine> engine;
  Metrics metrics;
  httplib::Server http;
  int64_t created = 0;  // unix time of start, for /v1/models

  // Scheduler: accepted requests go to `inbox`; the scheduler thread moves them into the
  // engine and steps it. in_flight counts accepted, unfinished requests (the queue bound).
  std::mutex mu;
  std::condition_variable cv;
  std::deque<EngineRequest> inbox;
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> running{0}, waiting{0};
  std::atomic<bool> stopping{false};
  std::thread scheduler;
  std::atomic<uint64_t> next_id{1};
  std::mutex rng_mu;
  std::mt19937_64 rng{std::random_device{}()};

  void scheduler_loop();
  void routes();
  void generation(const httplib::Request& req, httplib::Response& res, bool chat);
  Metrics::Gauges gauges() const;
};

// {"error": ...} with `status`.
void reply_error(httplib::Response& res, int status, const std::string& message, const std::string& param = "",
                 const std::string& code = "");
// JSON text that never throws: invalid UTF-8 (a split character) becomes U+FFFD.
std::string dump_json(const Json& j);

// The playground page served at GET /.
const char* playground_html();

}  // namespace peft::serve
