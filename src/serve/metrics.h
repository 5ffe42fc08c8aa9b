// The server's counters, gauges and histograms, rendered in Prometheus' text format.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace peft::serve {

// Cumulative buckets with upper bounds `bounds` (+Inf implied), their sum and count.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double x);
  // `name`'s _bucket/_sum/_count lines.
  void render(std::string& out, const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();
  // A finished HTTP exchange.
  void http(const std::string& path, int status);
  // A generation request that left the engine: its outcome and token counts.
  void finished(const std::string& adapter, const std::string& outcome, int64_t prompt_tokens, int64_t generated);
  void queue_time(double seconds);
  void first_token(double seconds);
  void step(int64_t decode_rows, int64_t segments, int64_t prefills);
  void rejected_full();

  // Gauges are read when rendering: running and waiting requests, slots held, adapters.
  struct Gauges {
    int64_t running = 0, waiting = 0, in_flight = 0, adapters_loaded = 0, adapter_loads = 0, adapter_evictions = 0;
  };
  std::string render(const Gauges& g) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> http_;
  std::map<std::string, uint64_t> outcomes_;
  std::map<std::string, uint64_t> adapter_requests_;
  uint64_t prompt_tokens_ = 0, generated_tokens_ = 0, steps_ = 0, prefills_ = 0, mixed_steps_ = 0, rejected_ = 0;
  Histogram batch_, queue_, ttft_;
};

}  // namespace peft::serve
