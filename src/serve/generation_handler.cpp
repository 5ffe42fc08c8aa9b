// POST /v1/completions and /v1/chat/completions: parse, resolve the adapter, tokenize, queue
// on the engine, and answer — whole (JSON) or streamed (server-sent events).
#include <chrono>
#include <cmath>
#include <variant>

#include "serve/api_request.h"
#include "serve/server_impl.h"

namespace peft::serve {

namespace {

// llama-server's per-request "lora": [{id, scale}] — several low-rank updates, each scaled,
// on top of the request's model. Runs on the engine thread, so scaling the shared adapters
// around each call is safe; every adapter's scale is back to 1 afterwards.
class ScaledLoras : public SiteHooks {
 public:
  void add(std::shared_ptr<LoadedAdapter> a, double scale) { loras_.push_back({std::move(a), scale}); }
  void linear_output(Site site, int64_t layer, const float* x, float* y, int64_t N) override {
    for (auto& [a, scale] : loras_) {
      if (scale == 0) continue;
      (void)a->adapter->set_scale(scale);
      a->adapter->linear_output(site, layer, x, y, N);
      (void)a->adapter->set_scale(1.0);
    }
  }

 private:
  std::vector<std::pair<std::shared_ptr<LoadedAdapter>, double>> loras_;
};

double now_s() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

// log p(id) and the top-n alternatives from logits (V).
TokenLogprob logprob_of(const Tokenizer& tok, const float* logits, int64_t V, int32_t id, int64_t top_n) {
  double mx = -INFINITY;
  for (int64_t i = 0; i < V; ++i) mx = std::max(mx, double(logits[i]));
  double sum = 0;
  for (int64_t i = 0; i < V; ++i) sum += std::exp(double(logits[i]) - mx);
  const double lse = mx + std::log(sum);
  auto text = [&](int32_t t) { return tok.decode(std::span<const int32_t>(&t, 1)); };
  TokenLogprob lp{text(id), double(logits[id]) - lse, {}};
  if (top_n > 0) {
    std::vector<int32_t> idx(static_cast<size_t>(V));
    for (int64_t i = 0; i < V; ++i) idx[size_t(i)] = int32_t(i);
    const int64_t n = std::min(top_n, V);
    std::partial_sort(idx.begin(), idx.begin() + n, idx.end(),
                      [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
    for (int64_t i = 0; i < n; ++i) lp.top.push_back({text(idx[size_t(i)]), double(logits[idx[size_t(i)]]) - lse});
  }
  return lp;
}

Json bytes_of(const std::string& s) {
  Json b = Json::array();
  for (unsigned char c : s) b.push_back(int(c));
  return b;
}

// The logprobs object of a choice for the tokens `lps`, starting at text offset `offset`.
Json logprobs_json(const RequestState& st, const std::vector<TokenLogprob>& lps, size_t offset) {
  if (st.chat) {
    Json content = Json::array();
    for (const TokenLogprob& lp : lps) {
      Json top = Json::array();
      for (const auto& [t, l] : lp.top) top.push_back({{"token", t}, {"logprob", l}, {"bytes", bytes_of(t)}});
      content.push_back(
          {{"token", lp.token}, {"logprob", lp.logprob}, {"bytes", bytes_of(lp.token)}, {"top_logprobs", top}});
    }
    return {{"content", content}};
  }
  Json tokens = Json::array(), token_lp = Json::array(), top = Json::array(), offsets = Json::array();
  for (const TokenLogprob& lp : lps) {
    tokens.push_back(lp.token);
    token_lp.push_back(lp.logprob);
    Json alt = Json::object();
    for (const auto& [t, l] : lp.top) alt[t] = l;
    top.push_back(alt);
    offsets.push_back(offset);
    offset += lp.token.size();
  }
  return {{"tokens", tokens}, {"token_logprobs", token_lp}, {"top_logprobs", top}, {"text_offset", offsets}};
}

Json usage_json(const RequestState& st) {
  return {{"prompt_tokens", st.prompt_tokens},
          {"completion_tokens", st.generated},
          {"total_tokens", st.prompt_tokens + st.generated}};
}

// One streamed chunk: a text delta (and its tokens' logprobs), or the final one with the
// finish reason.
Json chunk_json(const RequestState& st, const std::string& text, const std::vector<TokenLogprob>& lps,
                const std::string& finish, size_t offset, int64_t created, bool first) {
  Json choice = {{"index", 0}};
  if (st.chat) {
    Json delta = Json::object();
    if (first) delta["role"] = "assistant";
    if (!text.empty() || (first && finish.empty())) delta["content"] = text;
    choice["delta"] = delta;
  } else {
    choice["text"] = text;
  }
  choice["logprobs"] = st.logprobs && !lps.empty() ? logprobs_json(st, lps, offset) : Json(nullptr);
  choice["finish_reason"] = finish.empty() ? Json(nullptr) : Json(finish);
  Json c = {{"id", st.id},
            {"object", st.chat ? "chat.completion.chunk" : "text_completion"},
            {"created", created},
            {"model", st.model_name},
            {"choices", Json::array({choice})}};
  if (st.include_usage) c["usage"] = nullptr;
  return c;
}

}  // namespace

void Server::Impl::generation(const httplib::Request& req, httplib::Response& res, bool chat_api) {
  ParseLimits limits;
  limits.max_tokens = max_tokens_limit;
  auto parsed = parse_generation_request(req.body, chat_api, limits);
  if (auto* e = std::get_if<ApiError>(&parsed)) return reply_error(res, e->status, e->message, e->param, e->code);
  GenerationParams& p = std::get<GenerationParams>(parsed);

  auto st = std::make_shared<RequestState>();
  st->chat = chat_api;
  st->stream = p.stream;
  st->include_usage = p.include_usage;
  st->logprobs = p.logprobs;
  st->model_name = p.model.empty() ? model_name : p.model;
  st->id = fmt::format("{}-{}", chat_api ? "chatcmpl" : "cmpl", next_id++);

  // The model: the base (its name or path, or none given) or an adapter.
  SiteHooks* hooks = nullptr;
  if (!p.model.empty() && p.model != model_name && p.model != opt.model_path) {
    auto got = adapters->get(p.model);
    if (auto* e = std::get_if<AdapterLookupError>(&got))
      return reply_error(res, e->status, e->message, "model", e->status == 404 ? "model_not_found" : "");
    st->adapter = std::get<std::shared_ptr<LoadedAdapter>>(got);
    st->adapter_name = st->adapter->name;
    hooks = st->adapter->adapter.get();
  }
  if (!p.lora.empty()) {
    const auto pinned = adapters->pinned();
    auto mix = std::make_unique<ScaledLoras>();
    if (st->adapter) {
      if (!st->adapter->scalable)
        return reply_error(res, 400,
                           "'lora' combines only with the base model or a LoRA adapter; '" + p.model + "' is a " +
                               st->adapter->adapter->method() + " adapter",
                           "lora");
      mix->add(st->adapter, 1.0);
    }
    for (const LoraChoice& c : p.lora) {
      if (c.id >= int64_t(pinned.size()))
        return reply_error(
            res, 400, fmt::format("'lora': id {} is not one of the {} adapters given at start", c.id, pinned.size()),
            "lora");
      if (!pinned[size_t(c.id)]->scalable)
        return reply_error(
            res, 400,
            fmt::format("'lora': adapter {} ('{}') has no scale (not a LoRA)", c.id, pinned[size_t(c.id)]->name),
            "lora");
      mix->add(pinned[size_t(c.id)], c.scale);
      if (!st->adapter_name.empty()) st->adapter_name += "+";
      st->adapter_name += pinned[size_t(c.id)]->name;
    }
    st->lora_mix = std::move(mix);
    hooks = st->lora_mix.get();
  }

  // The prompt's ids.
  EngineRequest er;
  if (chat_api) {
    if (!chat) return reply_error(res, 400, chat_error + "; or use /v1/completions", "messages");
    ChatRenderOptions ro;
    ro.add_generation_prompt = true;
    ro.bos_token = chat->tmpl.bos_token;
    ro.eos_token = chat->tmpl.eos_token;
    auto rendered = render_chat(chat->tmpl, p.messages, ro);
    if (!rendered.is_ok()) return reply_error(res, 400, rendered.status().message(), "messages");
    er.prompt = encode_rendered(*tok, *rendered);
    er.options.stop_ids = chat->end_ids;
  } else if (p.prompt_is_ids) {
    er.prompt = p.prompt_ids;
  } else {
    er.prompt = tok->encode(p.prompt, tok->add_bos_default());
  }
  st->prompt_tokens = int64_t(er.prompt.size());
  if (st->prompt_tokens + p.max_tokens > max_model_len)
    return reply_error(res, 400,
                       fmt::format("This model's maximum context length is {} tokens. However, you requested "
                                   "{} tokens ({} in the prompt, {} in the completion).",
                                   max_model_len, st->prompt_tokens + p.max_tokens, st->prompt_tokens, p.max_tokens),
                       p.chat ? "messages" : "prompt", "context_length_exceeded");
  er.options.max_new_tokens = p.max_tokens;
  er.options.stop_at_eos = !p.ignore_eos;
  er.options.hooks = hooks;
  uint64_t seed = 0;
  if (p.seed) {
    seed = *p.seed;
  } else {
    std::lock_guard lock(rng_mu);
    seed = rng();
  }
  er.options.sampling = SamplingOptions{float(p.temperature), p.top_k, float(p.top_p), seed};
  if (Status s = engine->check(er); !s.is_ok())
    return reply_error(res, 400, s.message(), chat_api ? "messages" : "prompt");

  // Admission: a bounded number of accepted, unfinished requests.
  const int64_t bound = opt.max_batch + opt.max_queue;
  if (in_flight.fetch_add(1) >= bound) {
    in_flight.fetch_sub(1);
    metrics.rejected_full();
    res.set_header("Retry-After", "1");
    return reply_error(res, 503, fmt::format("the server is busy ({} requests running or queued); retry later", bound),
                       "", "server_busy");
  }

  st->accepted = Clock::now();
  st->deadline =
      st->accepted + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.request_timeout_s));
  st->text = std::make_unique<TextStream>(*tok, er.prompt);
  st->stop = std::make_unique<StopMatcher>(p.stop);
  const int64_t top_n = p.logprobs.value_or(0);
  const bool want_lp = p.logprobs.has_value();
  Impl* self = this;
  er.on_token = [st, self, top_n, want_lp](int32_t id, const float* logits, int64_t V) {
    const std::string decoded = st->text->push(id);
    std::optional<TokenLogprob> lp;
    if (want_lp) {
      // The sampled token reads as the text it added (its leading space included), so
      // tokens and text_offset line up with the text; alternatives as decoded alone.
      lp = logprob_of(*self->tok, logits, V, id, top_n);
      const std::string alone = lp->token;
      lp->token = decoded;
      for (auto& [t, l] : lp->top)
        if (t == alone) t = decoded;
    }
    const std::string piece = st->stop->push(decoded);
    {
      std::lock_guard lock(st->mu);
      if (st->generated++ == 0)
        self->metrics.first_token(std::chrono::duration<double>(Clock::now() - st->accepted).count());
      st->pending += piece;
      if (lp && !st->stop->stopped()) st->pending_lp.push_back(std::move(*lp));
    }
    st->cv.notify_all();
    return !st->stop->stopped() && !st->cancel;
  };
  er.cancelled = [st, self] { return st->cancel || self->stopping || Clock::now() > st->deadline; };
  er.on_finish = [st, self](FinishReason why) {
    std::string reason = why == FinishReason::Stop ? "stop" : "length";
    if (why == FinishReason::Cancelled)  // a stop string, the server's timeout, or the client gone
      reason = st->stop->stopped() ? "stop" : st->cancel || self->stopping ? "cancelled" : "length";
    if (reason != "cancelled" || st->stop->stopped()) {
      const std::string rest = st->stop->stopped() ? "" : st->stop->push(st->text->finish()) + st->stop->flush();
      std::lock_guard lock(st->mu);
      st->pending += rest;
    }
    {
      std::lock_guard lock(st->mu);
      st->finished = true;
      st->finish_reason = reason;
    }
    self->metrics.finished(st->adapter_name, reason, st->prompt_tokens, st->generated);
    self->in_flight.fetch_sub(1);
    st->cv.notify_all();
  };
  {
    std::lock_guard lock(mu);
    inbox.push_back(std::move(er));
    waiting++;
  }
  cv.notify_all();

  const int64_t created = int64_t(now_s());
  // Both forms write as the request runs: streams their chunks, whole answers a blank (JSON
  // allows leading whitespace) every second while waiting — a failed write means the client
  // left, which cancels the request and frees its row at the next step.
  auto provider = [st, created](size_t, httplib::DataSink& sink) -> bool {
    std::string all_text;
    std::vector<TokenLogprob> all_lp;
    bool first = true;
    size_t offset = 0;
    Clock::time_point last_write = Clock::now();
    for (;;) {
      std::string text;
      std::vector<TokenLogprob> lps;
      bool finished = false;
      std::string reason;
      {
        std::unique_lock lock(st->mu);
        st->cv.wait_for(lock, std::chrono::seconds(1),
                        [&] { return st->finished || (st->stream && !st->pending.empty()); });
        text.swap(st->pending);
        lps.swap(st->pending_lp);
        finished = st->finished;
        reason = st->finish_reason;
      }
      std::string out;
      if (st->stream) {
        if (!text.empty() || !lps.empty()) {
          out += "data: " + dump_json(chunk_json(*st, text, lps, "", offset, created, first)) + "\n\n";
          first = false;
          offset += text.size();
        }
        if (finished && reason != "cancelled") {
          if (first) out += "data: " + dump_json(chunk_json(*st, "", {}, "", offset, created, true)) + "\n\n";
          Json last = chunk_json(*st, "", {}, reason, offset, created, false);
          if (st->chat) last["choices"][0]["delta"] = Json::object();
          out += "data: " + dump_json(last) + "\n\n";
          if (st->include_usage) {
            Json u = chunk_json(*st, "", {}, "", offset, created, false);
            u["choices"] = Json::array();
            u["usage"] = usage_json(*st);
            out += "data: " + dump_json(u) + "\n\n";
          }
          out += "data: [DONE]\n\n";
        }
        if (out.empty() && Clock::now() - last_write >= std::chrono::seconds(1)) out = ": keep-alive\n\n";
      } else {
        all_text += text;
        for (auto& lp : lps) all_lp.push_back(std::move(lp));
        if (finished && reason != "cancelled") {
          Json choice = {{"index", 0}, {"finish_reason", reason}};
          if (st->chat)
            choice["message"] = {{"role", "assistant"}, {"content", all_text}};
          else
            choice["text"] = all_text;
          choice["logprobs"] = st->logprobs ? logprobs_json(*st, all_lp, 0) : Json(nullptr);
          out = dump_json({{"id", st->id},
                           {"object", st->chat ? "chat.completion" : "text_completion"},
                           {"created", created},
                           {"model", st->model_name},
                           {"choices", Json::array({choice})},
                           {"usage", usage_json(*st)}});
        } else if (!finished && Clock::now() - last_write >= std::chrono::seconds(1)) {
          out = " ";
        }
      }
      if (!out.empty()) {
        if (!sink.write(out.data(), out.size())) {
          st->cancel = true;  // the client is gone
          return false;
        }
        last_write = Clock::now();
      }
      if (finished) {
        sink.done();
        return true;
      }
    }
  };
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(p.stream ? "text/event-stream" : "application/json", provider, [st](bool success) {
    if (!success) st->cancel = true;
  });
}

}  // namespace peft::serve
