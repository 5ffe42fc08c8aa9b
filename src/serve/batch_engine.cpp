// BatchEngine: admission, prefill alone, one mixed decode step per iteration.
#include "serve/batch_engine.h"

#include <algorithm>

#include "core/check.h"

namespace peft {

BatchEngine::BatchEngine(const Model& model, int64_t max_batch, int64_t max_prompt, int64_t prefill_budget)
    : m_(model),
      max_batch_(max_batch),
      prefill_budget_(prefill_budget),
      runner_(model, std::max(max_batch, max_prompt)),
      mixed_(model),
      logits_(size_t(std::max<int64_t>(max_batch, 1) * model.config.n_vocab)) {
  PEFT_CHECK(max_batch >= 1 && max_prompt >= 1, "engine of batch {} and prompts of {}", max_batch, max_prompt);
}

Status BatchEngine::check(const EngineRequest& r) const {
  const ModelConfig& c = m_.config;
  const int64_t P = int64_t(r.prompt.size());
  if (P == 0) return Status::error("the prompt is empty (no tokens)");
  if (P > c.n_ctx) return Status::errorf("the prompt has {} tokens but the model's context is {}", P, c.n_ctx);
  PEFT_TRY(check_token_ids(m_, r.prompt.data(), P, "prompt"));
  const int64_t nv = r.options.hooks ? r.options.hooks->num_virtual_tokens() : 0;
  if (P + nv > runner_.max_tokens())
    return Status::errorf("the prompt has {} positions with its adapter's virtual tokens; this server takes {}", P + nv,
                          runner_.max_tokens());
  if (r.options.max_new_tokens < 1) return Status::error("max_tokens must be at least 1");
  return Status::ok();
}

void BatchEngine::add(EngineRequest r) { waiting_.push_back(std::move(r)); }

void BatchEngine::finish(Running& r, FinishReason why) {
  if (r.req.on_finish) r.req.on_finish(why);
  r.req.on_finish = nullptr;
}

bool BatchEngine::emit(Running& r, const float* logits) {
  const int64_t V = m_.config.n_vocab;
  const int32_t id = r.sampler.sample(logits, V);
  ++r.generated;
  r.next = id;
  if (r.req.on_token && !r.req.on_token(id, logits, V)) {
    finish(r, FinishReason::Cancelled);
    return false;
  }
  const GenerateOptions& o = r.req.options;
  if (!generation_done(m_.config, o, int64_t(r.req.prompt.size()), id, r.generated)) return true;
  const bool stopped = o.stop_at_eos && (id == m_.config.eos_id ||
                                         std::find(o.stop_ids.begin(), o.stop_ids.end(), id) != o.stop_ids.end());
  finish(r, stopped ? FinishReason::Stop : FinishReason::Length);
  return false;
}

EngineStats BatchEngine::step() {
  EngineStats st;
  const ModelConfig& c = m_.config;
  // Cancelled requests leave first, waiting or running: their rows are free for this step.
  for (auto it = waiting_.begin(); it != waiting_.end();)
    if (it->cancelled && it->cancelled()) {
      if (it->on_finish) it->on_finish(FinishReason::Cancelled);
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  std::erase_if(running_, [&](std::unique_ptr<Running>& r) {
    if (!r->req.cancelled || !r->req.cancelled()) return false;
    finish(*r, FinishReason::Cancelled);
    return true;
  });

  // Admission: each new prompt alone (exactly `peft generate`'s prefill), its first token
  // sampled from it. Rows admitted now decode from the next step on.
  std::vector<std::unique_ptr<Running>> admitted;
  while (!waiting_.empty() && int64_t(running_.size() + admitted.size()) < max_batch_ &&
         (st.prefills == 0 || st.prefill_tokens + int64_t(waiting_.front().prompt.size()) <= prefill_budget_)) {
    EngineRequest req = std::move(waiting_.front());
    waiting_.pop_front();
    SiteHooks* hooks = req.options.hooks;
    const int64_t P = int64_t(req.prompt.size());
    const int64_t extra = hooks ? hooks->num_virtual_tokens() + hooks->num_prefix_tokens() : 0;
    const int64_t capacity = extra + P + std::min(req.options.max_new_tokens, c.n_ctx - P);
    auto r = std::make_unique<Running>(
        Running{std::move(req), make_sequence_cache(c, capacity), Sampler(SamplingOptions{}), 0, 0});
    r->sampler = Sampler(r->req.options.sampling);
    runner_.prefill(r->cache, r->req.prompt.data(), P, hooks, logits_.data());
    ++st.prefills;
    st.prefill_tokens += P;
    if (emit(*r, logits_.data())) admitted.push_back(std::move(r));
  }

  // Decode: every request admitted before this step, rows grouped by adapter.
  if (!running_.empty()) {
    std::stable_sort(running_.begin(), running_.end(),
                     [](const auto& a, const auto& b) { return a->req.options.hooks < b->req.options.hooks; });
    const int64_t B = int64_t(running_.size());
    std::vector<KvCache*> seqs(static_cast<size_t>(B));
    std::vector<int32_t> ids(static_cast<size_t>(B));
    std::vector<HookSegment> segments;
    for (int64_t b = 0; b < B; ++b) {
      Running& r = *running_[size_t(b)];
      seqs[size_t(b)] = &r.cache;
      ids[size_t(b)] = r.next;
      SiteHooks* h = r.req.options.hooks;
      if (!h) continue;
      if (!segments.empty() && segments.back().hooks == h && segments.back().end == b)
        ++segments.back().end;
      else
        segments.push_back({b, b + 1, h});
    }
    SiteHooks* hooks = nullptr;
    if (segments.size() == 1 && segments[0].begin == 0 && segments[0].end == B) {
      hooks = segments[0].hooks;  // one adapter for the whole batch: no dispatch needed
    } else if (!segments.empty()) {
      mixed_.set_segments(segments);
      hooks = &mixed_;
    }
    runner_.decode(seqs.data(), ids.data(), B, hooks, logits_.data());
    st.decode_rows = B;
    st.decode_segments = int64_t(segments.size());
    const int64_t V = c.n_vocab;
    std::vector<std::unique_ptr<Running>> still;
    for (int64_t b = 0; b < B; ++b)
      if (emit(*running_[size_t(b)], logits_.data() + b * V)) still.push_back(std::move(running_[size_t(b)]));
    running_ = std::move(still);
  }
  for (auto& r : admitted) running_.push_back(std::move(r));
  return st;
}

}  // namespace peft
