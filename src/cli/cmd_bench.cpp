// peft bench train|generate: throughput, step-time split and memory on random-weight preset models.
#include <cstdio>
#include <memory>

#include "bench/generate_bench.h"
#include "bench/random_model.h"
#include "bench/train_bench.h"
#include "cli/command.h"
#include "dist/comm.h"

namespace peft::cli {

namespace {

struct BenchArgs {
  bench::TrainBenchOptions train;
  bench::GenerateBenchOptions gen;
  bool json = false;
  bool no_peak = false;
};

Status run_bench_train(const BenchArgs& a) {
  bench::TrainBenchOptions o = a.train;
  o.measure_peak = !a.no_peak;
  PEFT_ASSIGN_OR_RETURN(bench::TrainBenchResult r, bench::run_train_bench(o));
  if (!dist::is_root()) return Status::ok();  // rank 0 reports for an MPI job
  if (a.json) {
    std::printf("%s\n", r.to_json().dump().c_str());
  } else {
    std::printf("%s", r.to_text().c_str());
  }
  return Status::ok();
}

Status run_bench_generate(const BenchArgs& a) {
  bench::GenerateBenchOptions o = a.gen;
  o.measure_bandwidth = !a.no_peak;
  PEFT_ASSIGN_OR_RETURN(bench::GenerateBenchResult r, bench::run_generate_bench(o));
  if (a.json) {
    std::printf("%s\n", r.to_json().dump().c_str());
  } else {
    std::printf("%s", r.to_text().c_str());
  }
  return Status::ok();
}

}  // namespace

void add_bench(CLI::App& app, Action& action) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* bench = app.add_subcommand("bench", "benchmarks on random-weight models of known shapes");
  bench->require_subcommand(1);
  const std::string presets = "model shape: " + bench::preset_names();

  CLI::App* t = bench->add_subcommand("train", "time adapter training steps (forward, backward, optimizer)");
  t->add_option("--arch", a->train.arch, "the preset's model_type (optional; must match)");
  t->add_option("--preset", a->train.preset, presets + " (default gpt2-124m)");
  t->add_option("--batch", a->train.batch, "sequences per step (default: the preset's, 4 for most)");
  t->add_option("--seq", a->train.seq, "tokens per sequence (default: the preset's, 256 or 512)");
  t->add_option("--method", a->train.method, "any registered method (default lora)");
  t->add_option("--target-modules", a->train.target_modules, "comma-separated (default: q,v / c_attn)");
  t->add_option("--lora-r", a->train.lora_r, "rank for methods with one (default 8)");
  t->add_option("--base-dtype", a->train.base_dtype,
                "f32 (default), bf16, or q8_0|q4_0|q4_k|nf4 (projections quantized at load)");
  t->add_option("--model", a->train.model, "a model folder or file (e.g. a quantized GGUF) instead of a preset");
  t->add_option("--steps", a->train.steps, "timed steps (default 5)");
  t->add_option("--warmup", a->train.warmup, "untimed steps first (default 2)");
  t->add_option("--seed", a->train.seed, "weights, adapter init and tokens (default 42)");
  t->add_flag("--json", a->json, "print one JSON object");
  t->add_flag("--no-peak", a->no_peak, "skip the reference GEMM (no % of peak)");
  t->add_flag("--gradient-checkpointing", a->train.gradient_checkpointing,
              "recompute block activations in the backward (less memory, one more forward)");
  t->callback([a, &action] { action = [a] { return run_bench_train(*a); }; });

  CLI::App* g = bench->add_subcommand("generate", "time prompt processing and greedy decoding");
  g->add_option("--arch", a->gen.arch, "the preset's model_type (optional; must match)");
  g->add_option("--preset", a->gen.preset, presets + " (default gpt2-124m)");
  g->add_option("--base-dtype", a->gen.base_dtype,
                "f32 (default), bf16, or q8_0|q4_0|q4_k|nf4 (projections quantized at load)");
  g->add_option("--model", a->gen.model, "a model folder or file (e.g. a quantized GGUF) instead of a preset");
  g->add_option("--prompt", a->gen.prompt, "prompt tokens (default 128)");
  g->add_option("--tokens", a->gen.tokens, "new tokens per row (default 64)");
  g->add_option("--batch", a->gen.batch, "rows of the batched decode (default 4; 0 = skip)");
  g->add_option("--seed", a->gen.seed, "weights and prompt (default 42)");
  g->add_flag("--json", a->json, "print one JSON object");
  g->add_flag("--no-peak", a->no_peak, "skip the bandwidth sweep (no % of bound)");
  g->callback([a, &action] { action = [a] { return run_bench_generate(*a); }; });
}

}  // namespace peft::cli
