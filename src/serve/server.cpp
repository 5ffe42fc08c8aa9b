// Server setup, the scheduler thread, and the endpoints other than generation.
#include "serve/server.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "serve/api_request.h"
#include "serve/server_impl.h"
#include "tokenizer/model_tokenizer.h"

namespace peft::serve {

std::string dump_json(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

void reply_error(httplib::Response& res, int status, const std::string& message, const std::string& param,
                 const std::string& code) {
  res.status = status;
  res.set_content(dump_json(ApiError{status, message, param, code}.body()), "application/json");
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() {
  stop();
  if (impl_->scheduler.joinable()) impl_->scheduler.join();
}

Result<std::unique_ptr<Server>> Server::create(const ServeOptions& o) {
  auto impl = std::make_unique<Impl>();
  impl->opt = o;
  if (o.max_batch < 1) return Status::errorf("--max-batch must be at least 1, found {}", o.max_batch);
  if (o.max_queue < 0) return Status::errorf("--max-queue must be >= 0, found {}", o.max_queue);
  if (o.max_loaded_adapters < 1)
    return Status::errorf("--max-loaded-adapters must be at least 1, found {}", o.max_loaded_adapters);
  if (o.max_body_bytes < 1024)
    return Status::errorf("--max-body-bytes must be at least 1024, found {}", o.max_body_bytes);
  if (!(o.request_timeout_s > 0)) return Status::errorf("--request-timeout must be > 0, found {}", o.request_timeout_s);
  if (!o.adapter_dir.empty() && !std::filesystem::is_directory(o.adapter_dir))
    return Status::errorf("--adapter-dir {}: not a directory", o.adapter_dir);
  PEFT_ASSIGN_OR_RETURN(impl->model, load_model(o.model_path, o.load));
  PEFT_TRY(check_causal_lm(*impl->model, "peft serve"));
  PEFT_ASSIGN_OR_RETURN(impl->tok, load_matching_tokenizer(*impl->model, o.model_path));
  const int64_t n_ctx = impl->model->config.n_ctx;
  if (o.max_model_len < 0 || o.max_model_len > n_ctx)
    return Status::errorf("--max-model-len {} must be in [1, {}] (the model's context)", o.max_model_len, n_ctx);
  impl->max_model_len = o.max_model_len ? o.max_model_len : n_ctx;
  impl->max_tokens_limit = o.max_tokens_limit ? std::min(o.max_tokens_limit, impl->max_model_len) : impl->max_model_len;
  if (o.max_tokens_limit < 0) return Status::errorf("--max-tokens-limit must be >= 1, found {}", o.max_tokens_limit);
  std::string name = o.served_model_name;
  if (name.empty()) {
    std::filesystem::path p(o.model_path);
    name = (p.has_filename() ? p.filename() : p.parent_path().filename()).string();
  }
  impl->model_name = name;
  auto chat = load_chat_prompt(o.model_path, o.chat_template, "", *impl->tok);
  if (chat.is_ok()) {
    impl->chat = std::move(*chat);
  } else {
    if (!o.chat_template.empty()) return chat.status();  // a template asked for must work
    impl->chat_error = chat.status().message();
  }
  impl->adapters = std::make_unique<AdapterCache>(*impl->model, o.adapter_dir, o.max_loaded_adapters);
  for (const auto& [aname, path] : o.adapters) {
    if (aname.empty() || aname == name)
      return Status::errorf("--adapter {}={}: the name must differ from the model's", aname, path);
    PEFT_TRY(impl->adapters->add_pinned(aname, path).with_context("--adapter " + aname));
  }
  // Activations for a whole prompt (plus up to 64 virtual tokens) or a full decode batch.
  impl->engine = std::make_unique<BatchEngine>(*impl->model, o.max_batch, impl->max_model_len + 64,
                                               std::max<int64_t>(impl->max_model_len, 512));
  impl->created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Metrics::Gauges Server::Impl::gauges() const {
  Metrics::Gauges g;
  g.running = running.load();
  g.waiting = waiting.load();
  g.in_flight = in_flight.load();
  g.adapters_loaded = int64_t(adapters->loaded().size());
  g.adapter_loads = adapters->loads();
  g.adapter_evictions = adapters->evictions();
  return g;
}

void Server::Impl::scheduler_loop() {
  for (;;) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return stopping || !inbox.empty() || engine->running() > 0 || engine->waiting() > 0; });
      while (!inbox.empty()) {
        engine->add(std::move(inbox.front()));
        inbox.pop_front();
      }
      if (stopping && engine->running() == 0 && engine->waiting() == 0) return;
    }
    const EngineStats st = engine->step();
    metrics.step(st.decode_rows, st.decode_segments, st.prefills);
    std::lock_guard lock(mu);
    running = engine->running();
    waiting = engine->waiting() + int64_t(inbox.size());
  }
}

void Server::Impl::routes() {
  http.Get("/health",
           [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
  http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(playground_html(), "text/html; charset=utf-8");
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.render(gauges()), "text/plain; version=0.0.4");
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    Json data = Json::array();
    data.push_back({{"id", model_name},
                    {"object", "model"},
                    {"created", created},
                    {"owned_by", "peft.cpp"},
                    {"root", opt.model_path},
                    {"parent", nullptr},
                    {"max_model_len", max_model_len}});
    const auto pinned = adapters->pinned();
    for (const auto& a : adapters->loaded()) {
      Json m = {{"id", a->name},          {"object", "model"}, {"created", created},
                {"owned_by", "peft.cpp"}, {"root", a->path},   {"parent", model_name}};
      for (size_t i = 0; i < pinned.size(); ++i)
        if (pinned[i] == a) m["lora_id"] = int64_t(i);  // llama-server's per-request "lora" id
      m["method"] = a->adapter->method();
      data.push_back(m);
    }
    res.set_content(dump_json({{"object", "list"}, {"data", data}}), "application/json");
  });
  http.Post("/v1/completions",
            [this](const httplib::Request& req, httplib::Response& res) { generation(req, res, false); });
  http.Post("/v1/chat/completions",
            [this](const httplib::Request& req, httplib::Response& res) { generation(req, res, true); });
  http.Post("/v1/load_lora_adapter", [this](const httplib::Request& req, httplib::Response& res) {
    auto parsed = parse_lora_adapter_request(req.body, true);
    if (auto* e = std::get_if<ApiError>(&parsed)) return reply_error(res, e->status, e->message, e->param, e->code);
    const auto& r = std::get<LoraAdapterRequest>(parsed);
    if (r.name == model_name)
      return reply_error(res, 400, "the adapter name must differ from the model's", "lora_name");
    if (auto err = adapters->register_adapter(r.name, r.path)) return reply_error(res, err->status, err->message);
    res.set_content("Success: LoRA adapter '" + r.name + "' added successfully.", "text/plain");
  });
  http.Post("/v1/unload_lora_adapter", [this](const httplib::Request& req, httplib::Response& res) {
    auto parsed = parse_lora_adapter_request(req.body, false);
    if (auto* e = std::get_if<ApiError>(&parsed)) return reply_error(res, e->status, e->message, e->param, e->code);
    const auto& r = std::get<LoraAdapterRequest>(parsed);
    if (auto err = adapters->unregister(r.name)) return reply_error(res, err->status, err->message);
    res.set_content("Success: LoRA adapter '" + r.name + "' removed successfully.", "text/plain");
  });
  // httplib's own refusals (unknown path, body too large, bad HTTP) get OpenAI-style bodies.
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string what = res.status == 404   ? "no such endpoint: " + req.method + " " + req.path
                             : res.status == 413 ? "the request body is larger than this server accepts"
                             : res.status == 405 ? "method not allowed"
                                                 : "bad request";
    res.set_content(dump_json(ApiError{res.status, what, "", ""}.body()), "application/json");
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = std::string("internal error: ") + e.what();
    } catch (...) {
    }
    res.status = 500;
    res.set_content(dump_json(ApiError{500, what, "", ""}.body()), "application/json");
  });
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    static const char* known[] = {"/",
                                  "/health",
                                  "/metrics",
                                  "/v1/models",
                                  "/v1/completions",
                                  "/v1/chat/completions",
                                  "/v1/load_lora_adapter",
                                  "/v1/unload_lora_adapter"};
    std::string path = "other";  // arbitrary paths would grow the label set without bound
    for (const char* k : known)
      if (req.path == k) path = k;
    metrics.http(path, res.status);
  });
}

Status Server::run(const std::function<void(int)>& on_listening) {
  Impl& s = *impl_;
  s.routes();
  s.http.set_payload_max_length(size_t(s.opt.max_body_bytes));
  s.http.set_read_timeout(30, 0);
  s.http.set_write_timeout(30, 0);
  s.http.set_keep_alive_timeout(5);
  // A thread per connection being served: every accepted request can hold one while it waits
  // or streams, with room left for /health and /metrics.
  const size_t threads = size_t(s.opt.max_batch + s.opt.max_queue + 8);
  s.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  int port = s.opt.port;
  if (port == 0) {
    port = s.http.bind_to_any_port(s.opt.host);
    if (port < 0) return Status::errorf("cannot listen on {}: no free port", s.opt.host);
  } else if (!s.http.bind_to_port(s.opt.host, port)) {
    return Status::errorf("cannot listen on {}:{} (in use, or not an address of this machine)", s.opt.host, port);
  }
  s.scheduler = std::thread([&s] { s.scheduler_loop(); });
  if (on_listening) on_listening(port);
  const bool ok = s.http.listen_after_bind();
  stop();
  if (s.scheduler.joinable()) s.scheduler.join();
  return ok ? Status::ok() : Status::error("the HTTP listener failed");
}

void Server::stop() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.mu);
    s.stopping = true;
  }
  s.cv.notify_all();
  s.http.stop();
}

}  // namespace peft::serve
