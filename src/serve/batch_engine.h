// Continuous batching: requests join the running batch at token boundaries (their prompt
// prefilled alone), every running request advances one token per step in one forward, and
// rows with different adapters share it (MixedHooks).
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "core/status.h"
#include "model/generate.h"
#include "model/inference.h"
#include "model/mixed_hooks.h"
#include "model/ragged_inference.h"
#include "model/sampler.h"

namespace peft {

enum class FinishReason { Stop, Length, Cancelled };

// One generation request. options.hooks is the request's adapter (null: the base); the
// caller keeps it alive until on_finish. Requests with the same hooks pointer form one
// segment of a decode step.
struct EngineRequest {
  std::vector<int32_t> prompt;
  GenerateOptions options;
  // Each new token with the logits (V) it was sampled from; false cancels the request (a
  // stop string matched, the client left). Runs on the engine's thread.
  std::function<bool(int32_t id, const float* logits, int64_t V)> on_token;
  // Checked before every step: true drops the request (disconnect, timeout, shutdown).
  std::function<bool()> cancelled;
  // Called exactly once, when the request leaves the engine.
  std::function<void(FinishReason)> on_finish;
};

struct EngineStats {
  int64_t prefills = 0, prefill_tokens = 0;  // this step
  int64_t decode_rows = 0, decode_segments = 0;
};

class BatchEngine {
 public:
  // At most max_batch requests run at once; a step prefills new requests until
  // prefill_budget prompt tokens (at least one request), and no prompt may exceed
  // max_prompt positions (virtual tokens included): the runner's activation size.
  BatchEngine(const Model& model, int64_t max_batch, int64_t max_prompt, int64_t prefill_budget);

  // Whether the engine can run it: a non-empty prompt of valid ids that fits the context
  // and max_prompt with its adapter's virtual tokens.
  Status check(const EngineRequest& r) const;
  // Queues a checked request; it joins at the next step with room.
  void add(EngineRequest r);
  // One iteration: drops cancelled requests, prefills waiting ones into free rows, then one
  // decode step of every running request. Returns what it did.
  EngineStats step();

  int64_t running() const { return int64_t(running_.size()); }
  int64_t waiting() const { return int64_t(waiting_.size()); }
  int64_t max_batch() const { return max_batch_; }
  const Model& model() const { return m_; }

 private:
  struct Running {
    EngineRequest req;
    KvCache cache;
    Sampler sampler;
    int64_t generated = 0;
    int32_t next = 0;  // the last sampled token, fed at the next decode step
  };
  // Samples from logits (V), tells the client; false when the request is finished.
  bool emit(Running& r, const float* logits);
  void finish(Running& r, FinishReason why);

  const Model& m_;
  int64_t max_batch_, prefill_budget_;
  RaggedRunner runner_;
  MixedHooks mixed_;
  std::deque<EngineRequest> waiting_;
  std::vector<std::unique_ptr<Running>> running_;
  std::vector<float> logits_;  // (max(max_batch, 1), V)
  FinishReason last_reason_ = FinishReason::Stop;
};

}  // namespace peft
