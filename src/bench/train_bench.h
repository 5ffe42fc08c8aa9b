// `peft bench train`: timed adapter training steps on a random-weight model of a preset shape.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "adapters/registry.h"
#include "core/status.h"
#include "io/json_file.h"

namespace peft::bench {

struct TrainBenchOptions {
  std::string arch;  // "" = the preset's own
  std::string preset = "gpt2-124m";
  int64_t batch = 0, seq = 0;  // 0 = the preset's default (4 × 256; stories260k 16 × 207)
  std::string method = default_method_name();
  std::string target_modules;     // comma-separated; "" = the method's default for the arch
  std::optional<int64_t> lora_r;  // methods with an "r" field (lora, adamix); default 8
  std::string base_dtype;         // --base-dtype; "" = f32 for a preset, the file's own with --model
  std::string model;              // a model folder or file instead of the preset's random weights
  int64_t steps = 5, warmup = 2;
  uint64_t seed = 42;
  bool measure_peak = true;             // time the reference GEMM (≈ 1 s) for the % of peak
  bool gradient_checkpointing = false;  // DecoderOptions::checkpoint_layers
};

// Means over the timed steps (warm-up steps excluded), in seconds unless named otherwise.
struct TrainBenchResult {
  TrainBenchOptions options;
  int64_t threads = 0, params = 0, trainable_params = 0, matmul_params = 0;
  int64_t tokens_per_step = 0;
  double step_s = 0, forward_s = 0, backward_s = 0, optimizer_s = 0, other_s = 0;
  int ranks = 1;           // MPI processes sharing each batch (mpirun -np N peft bench train)
  double allreduce_s = 0;  // the gradient all-reduce per step (0 with one process)
  double tokens_per_s = 0, flops_per_step = 0, gflops = 0;
  double peak_gflops = 0, pct_of_peak = 0;  // measured matmul peak for the base dtype
  double load_s = 0, peak_rss_mb = 0, first_loss = 0, last_loss = 0;
  std::string base_types;  // the block projections' storage types, e.g. "Q4_K+Q6_K"
  Json to_json() const;
  std::string to_text() const;
};

Result<TrainBenchResult> run_train_bench(const TrainBenchOptions& options);

// Matmul FLOPs of one frozen-base training step on (B, T) tokens: see BENCHMARKS.md.
// 4·P·N (forward 2·P·N + input gradient 2·P·N, P = base matmul weights incl. the LM head)
// + 6·A·N (adapter: forward, input and weight gradients) + 12·L·B·H·T²·hd (attention:
// QKᵀ and AV at 2·T²·hd each, forward 4, backward 8; causal masking not discounted).
double train_step_flops(int64_t P, int64_t A, int64_t L, int64_t B, int64_t H, int64_t T, int64_t hd);

}  // namespace peft::bench
