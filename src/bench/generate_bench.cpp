// Prompt and decode throughput (KV-cached InferenceRunner, greedy) on a random-weight preset model.
#include "bench/generate_bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "bench/machine.h"
#include "bench/random_model.h"
#include "core/rng.h"
#include "core/threads.h"
#include "model/inference.h"

namespace peft::bench {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int32_t argmax(const float* x, int64_t n) { return int32_t(std::max_element(x, x + n) - x); }

// Runs B rows: the prompt in one forward, then `tokens` greedy steps. Returns the seconds of
// the prompt forward and of the decode steps.
void run_rows(const Model& m, int64_t B, const std::vector<int32_t>& prompt, int64_t P, int64_t tokens,
              double& prompt_s, double& decode_s) {
  const int64_t V = m.config.n_vocab;
  InferenceRunner runner(m, B, P, P + tokens);
  std::vector<float> logits(size_t(B * V));
  std::vector<int32_t> next(static_cast<size_t>(B), 0);
  auto t0 = Clock::now();
  runner.forward(prompt.data(), P, logits.data(), false);
  prompt_s = since(t0);
  auto t1 = Clock::now();
  for (int64_t i = 0; i < tokens; ++i) {
    for (int64_t b = 0; b < B; ++b) next[size_t(b)] = argmax(logits.data() + b * V, V);
    runner.forward(next.data(), 1, logits.data(), false);
  }
  decode_s = since(t1);
}

}  // namespace

Result<GenerateBenchResult> run_generate_bench(const GenerateBenchOptions& opt) {
  GenerateBenchResult r;
  r.options = opt;
  PEFT_ASSIGN_OR_RETURN(LoadOptions base_flag, load_options_from_base_dtype(opt.base_dtype));
  if (opt.prompt < 1 || opt.tokens < 1 || opt.batch < 0)
    return Status::errorf("--prompt and --tokens must be >= 1, --batch >= 0");
  if (opt.model.empty()) PEFT_TRY(preset_config(opt.preset, opt.arch).status());
  PEFT_ASSIGN_OR_RETURN(auto model, bench_model(opt.model, opt.preset, opt.arch, base_flag, opt.seed));
  r.options.arch = model->config.arch;
  r.base_types = describe_base(*model);
  const ModelConfig& c = model->config;
  if (opt.prompt + opt.tokens > c.n_ctx)
    return Status::errorf("--prompt + --tokens ({}) exceeds the preset's context ({})", opt.prompt + opt.tokens,
                          c.n_ctx);
  r.threads = num_threads();
  for (const LayerWeights& l : model->layers)
    for (const Linear* x : {&l.q, &l.k, &l.v, &l.qkv, &l.o, &l.gate, &l.up, &l.down})
      if (x->w.data) r.weight_bytes += double(x->w.nbytes());
  r.weight_bytes += double(model->lm_head.w.nbytes());

  const int64_t Bmax = std::max<int64_t>(1, opt.batch);
  Rng rng(opt.seed);
  std::vector<int32_t> prompt(size_t(Bmax * opt.prompt));
  for (int32_t& id : prompt) id = int32_t(rng.below(uint64_t(c.n_vocab)));
  double p_s = 0, d_s = 0;
  run_rows(*model, 1, prompt, opt.prompt, std::min<int64_t>(opt.tokens, 4), p_s, d_s);  // warm-up
  run_rows(*model, 1, prompt, opt.prompt, opt.tokens, p_s, d_s);
  r.prompt_tokens_per_s = double(opt.prompt) / p_s;
  r.decode_tokens_per_s = double(opt.tokens) / d_s;
  if (opt.batch > 0) {
    run_rows(*model, opt.batch, prompt, opt.prompt, opt.tokens, p_s, d_s);
    r.batched_decode_tokens_per_s = double(opt.batch * opt.tokens) / d_s;
  }
  r.peak_rss_mb = peak_rss_mb();
  if (opt.measure_bandwidth) {
    r.bandwidth_gbs = read_bandwidth_gbs();
    r.bound_tokens_per_s = r.bandwidth_gbs * 1e9 / r.weight_bytes;
    r.pct_of_bound = 100.0 * r.decode_tokens_per_s / r.bound_tokens_per_s;
  }
  return r;
}

Json GenerateBenchResult::to_json() const {
  const GenerateBenchOptions& o = options;
  return Json{{"bench", "generate"},
              {"engine", "peft.cpp"},
              {"preset", o.preset},
              {"arch", o.arch},
              {"base_dtype", o.base_dtype},
              {"base_types", base_types},
              {"model", o.model},
              {"prompt", o.prompt},
              {"tokens", o.tokens},
              {"batch", o.batch},
              {"threads", threads},
              {"prompt_tokens_per_s", prompt_tokens_per_s},
              {"decode_tokens_per_s", decode_tokens_per_s},
              {"batched_decode_tokens_per_s", batched_decode_tokens_per_s},
              {"weight_bytes", weight_bytes},
              {"bandwidth_gbs", bandwidth_gbs},
              {"bound_tokens_per_s", bound_tokens_per_s},
              {"pct_of_bound", pct_of_bound},
              {"peak_rss_mb", peak_rss_mb}};
}

std::string GenerateBenchResult::to_text() const {
  const GenerateBenchOptions& o = options;
  std::string out = fmt::format("{} ({}, {} weights), {} threads, prompt {} tokens, {} new tokens\n",
                                o.model.empty() ? o.preset : o.model, o.arch, base_types, threads, o.prompt, o.tokens);
  out += fmt::format("  prompt {:.1f} tokens/s, batch-1 greedy decode {:.1f} tokens/s", prompt_tokens_per_s,
                     decode_tokens_per_s);
  if (o.batch > 0) out += fmt::format(", batch-{} decode {:.1f} tokens/s", o.batch, batched_decode_tokens_per_s);
  out += "\n";
  if (bandwidth_gbs > 0)
    out += fmt::format(
        "  read bandwidth {:.1f} GB/s, {:.1f} MB of weights per token: bound {:.1f} tokens/s, "
        "decode at {:.0f}% of it\n",
        bandwidth_gbs, weight_bytes / 1e6, bound_tokens_per_s, pct_of_bound);
  out += fmt::format("  peak RSS {:.1f} MB\n", peak_rss_mb);
  return out;
}

}  // namespace peft::bench
