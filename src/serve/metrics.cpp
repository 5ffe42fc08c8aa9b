// Prometheus exposition of the server's metrics (text format 0.0.4).
#include "serve/metrics.h"

#include <fmt/format.h>

namespace peft::serve {

void Histogram::observe(double x) {
  size_t i = 0;
  while (i < bounds_.size() && x > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += x;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cum);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, count_, name, sum_, name, count_);
}

Metrics::Metrics()
    : batch_({1, 2, 4, 8, 16, 32, 64, 128}),
      queue_({0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60}),
      ttft_({0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60}) {}

void Metrics::http(const std::string& path, int status) {
  std::lock_guard lock(mu_);
  ++http_[{path, status}];
}

void Metrics::finished(const std::string& adapter, const std::string& outcome, int64_t prompt_tokens,
                       int64_t generated) {
  std::lock_guard lock(mu_);
  ++outcomes_[outcome];
  ++adapter_requests_[adapter];
  prompt_tokens_ += uint64_t(prompt_tokens);
  generated_tokens_ += uint64_t(generated);
}

void Metrics::queue_time(double s) {
  std::lock_guard lock(mu_);
  queue_.observe(s);
}

void Metrics::first_token(double s) {
  std::lock_guard lock(mu_);
  ttft_.observe(s);
}

void Metrics::step(int64_t rows, int64_t segments, int64_t prefills) {
  std::lock_guard lock(mu_);
  if (rows > 0) {
    ++steps_;
    batch_.observe(double(rows));
    mixed_steps_ += segments >= 2;
  }
  prefills_ += uint64_t(prefills);
}

void Metrics::rejected_full() {
  std::lock_guard lock(mu_);
  ++rejected_;
}

namespace {
// Label values escape backslash, quote and newline.
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void scalar(std::string& out, const char* type, const char* name, const char* help, double value) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
}
}  // namespace

std::string Metrics::render(const Gauges& g) const {
  std::lock_guard lock(mu_);
  std::string out;
  scalar(out, "gauge", "peft_requests_running", "Requests in the running batch.", double(g.running));
  scalar(out, "gauge", "peft_requests_waiting", "Requests queued for a row of the batch.", double(g.waiting));
  scalar(out, "gauge", "peft_requests_in_flight", "Accepted requests not yet finished (slots held).",
         double(g.in_flight));
  out += "# HELP peft_requests_total Generation requests finished, by outcome.\n# TYPE peft_requests_total counter\n";
  for (const auto& [k, v] : outcomes_) out += fmt::format("peft_requests_total{{outcome=\"{}\"}} {}\n", label(k), v);
  out +=
      "# HELP peft_http_requests_total HTTP requests answered, by path and status.\n"
      "# TYPE peft_http_requests_total counter\n";
  for (const auto& [k, v] : http_)
    out += fmt::format("peft_http_requests_total{{path=\"{}\",status=\"{}\"}} {}\n", label(k.first), k.second, v);
  scalar(out, "counter", "peft_rejected_queue_full_total", "Requests refused with 503 because the queue was full.",
         double(rejected_));
  scalar(out, "counter", "peft_prompt_tokens_total", "Prompt tokens of finished requests.", double(prompt_tokens_));
  scalar(out, "counter", "peft_generation_tokens_total", "Tokens generated.", double(generated_tokens_));
  scalar(out, "counter", "peft_decode_steps_total", "Decode steps run.", double(steps_));
  scalar(out, "counter", "peft_mixed_decode_steps_total", "Decode steps whose rows used two or more adapters.",
         double(mixed_steps_));
  scalar(out, "counter", "peft_prefills_total", "Prompts prefilled.", double(prefills_));
  batch_.render(out, "peft_batch_size", "Rows per decode step.");
  queue_.render(out, "peft_queue_time_seconds", "Time from acceptance to the prompt's prefill.");
  ttft_.render(out, "peft_time_to_first_token_seconds", "Time from acceptance to the first token.");
  out +=
      "# HELP peft_adapter_requests_total Finished requests by adapter (\"\" = the base model).\n"
      "# TYPE peft_adapter_requests_total counter\n";
  for (const auto& [k, v] : adapter_requests_)
    out += fmt::format("peft_adapter_requests_total{{adapter=\"{}\"}} {}\n", label(k), v);
  scalar(out, "gauge", "peft_adapters_loaded", "Adapters in memory.", double(g.adapters_loaded));
  scalar(out, "counter", "peft_adapter_loads_total", "Adapters read from disk.", double(g.adapter_loads));
  scalar(out, "counter", "peft_adapter_evictions_total", "Adapters dropped from the cache for room.",
         double(g.adapter_evictions));
  return out;
}

}  // namespace peft::serve
