// `peft bench generate`: prompt processing and greedy decode speed on a random-weight preset model.
#pragma once
#include <cstdint>
#include <string>

#include "core/status.h"
#include "io/json_file.h"

namespace peft::bench {

struct GenerateBenchOptions {
  std::string arch, preset = "gpt2-124m";
  std::string base_dtype;             // --base-dtype; "" = f32 for a preset, the file's own with --model
  std::string model;                  // a model folder or file instead of the preset's random weights
  int64_t prompt = 128, tokens = 64;  // prompt length, new tokens per row
  int64_t batch = 4;                  // rows of the batched decode (0 = skip it)
  uint64_t seed = 42;
  bool measure_bandwidth = true;
};

struct GenerateBenchResult {
  GenerateBenchOptions options;
  int64_t threads = 0;
  double prompt_tokens_per_s = 0;          // batch 1, one forward over the prompt
  double decode_tokens_per_s = 0;          // batch 1, greedy, one token per forward
  double batched_decode_tokens_per_s = 0;  // `batch` rows, tokens of all rows per second
  double weight_bytes = 0;                 // matmul weights read per decode step
  double bandwidth_gbs = 0, bound_tokens_per_s = 0, pct_of_bound = 0;
  double peak_rss_mb = 0;
  std::string base_types;  // the block projections' storage types, e.g. "Q4_K+Q6_K"
  Json to_json() const;
  std::string to_text() const;
};

Result<GenerateBenchResult> run_generate_bench(const GenerateBenchOptions& options);

}  // namespace peft::bench
