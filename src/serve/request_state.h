// One accepted generation request as both sides see it: the engine thread pushes text and
// token log-probabilities, the HTTP thread takes them and writes the response.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "io/json_file.h"
#include "model/site.h"
#include "serve/adapter_cache.h"
#include "tokenizer/text_stream.h"

namespace peft::serve {

using Clock = std::chrono::steady_clock;

// One generated token's log-probability and the alternatives asked for.
struct TokenLogprob {
  std::string token;
  double logprob = 0;
  std::vector<std::pair<std::string, double>> top;
};

// Text-level stop strings over a growing text: what may be released, and where a stop
// string ended it. Text that could still become a stop string is held back.
class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}
  // Appends `piece`; returns the text now safe to release. stopped() after a match (the
  // text before the stop string is released, the rest dropped).
  std::string push(const std::string& piece);
  // Everything still held (at the end of generation).
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

struct RequestState {
  // Fixed at acceptance.
  std::string id, model_name, adapter_name;
  bool chat = false, stream = false, include_usage = false;
  std::optional<int64_t> logprobs;
  int64_t prompt_tokens = 0;
  Clock::time_point accepted, deadline;
  std::shared_ptr<LoadedAdapter> adapter;  // kept alive while the engine uses it
  std::unique_ptr<SiteHooks> lora_mix;     // per-request "lora" scales, when given

  // Engine thread only.
  std::unique_ptr<TextStream> text;
  std::unique_ptr<StopMatcher> stop;

  // Shared, under mu.
  std::mutex mu;
  std::condition_variable cv;
  std::string pending;                   // text not yet written to the client
  std::vector<TokenLogprob> pending_lp;  // its tokens' log-probabilities
  int64_t generated = 0;
  bool finished = false;
  std::string finish_reason;  // "stop" | "length" (and "cancelled", never sent)

  std::atomic<bool> cancel{false};  // the client left, or the server stops
};

}  // namespace peft::serve
