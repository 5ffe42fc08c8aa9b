// Timed training steps (forward / backward / optimizer / other) on a random-weight preset model.
#include "bench/train_bench.h"

#include <fmt/format.h>

#include <chrono>
#include <sstream>
#include <vector>

#include "adapters/registry.h"
#include "bench/machine.h"
#include "bench/random_model.h"
#include "core/rng.h"
#include "core/threads.h"
#include "dist/comm.h"
#include "model/decoder.h"
#include "train/optimizer.h"

namespace peft::bench {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The method's adapter_config from its `peft train` flag defaults, with the bench's rank
// and target modules on top.
Result<Json> method_config(const MethodDef& m, const TrainBenchOptions& o) {
  Json config = Json::object();
  for (const MethodFlag& f : m.flags) {
    if (!f.default_value) continue;
    const std::string v = f.default_value;
    switch (f.type) {
      case MethodFlag::Type::Int:
        config[f.key] = std::stoll(v);
        break;
      case MethodFlag::Type::Float:
        config[f.key] = std::stod(v);
        break;
      case MethodFlag::Type::Bool:
        config[f.key] = v == "true" || v == "1";
        break;
      case MethodFlag::Type::String:  // as `peft train` reads it: true/false are booleans
        config[f.key] = v == "true" ? Json(true) : v == "false" ? Json(false) : Json(v);
        break;
      default:
        config[f.key] = v;
        break;
    }
  }
  if (config.contains("r"))
    config["r"] = o.lora_r.value_or(8);
  else if (o.lora_r)
    return Status::errorf("--lora-r does not apply to --method {} (it has no rank)", o.method);
  if (!o.target_modules.empty()) {
    bool has = false;
    for (const MethodFlag& f : m.flags) has |= std::string(f.key) == "target_modules";
    if (!has) return Status::errorf("--target-modules does not apply to --method {}", o.method);
    Json list = Json::array();
    std::stringstream ss(o.target_modules);
    for (std::string item; std::getline(ss, item, ',');)
      if (!item.empty()) list.push_back(item);
    config["target_modules"] = list;
  }
  return config;
}

int64_t linear_params(const Linear& l) { return l.w.data ? l.w.numel() : 0; }

}  // namespace

double train_step_flops(int64_t P, int64_t A, int64_t L, int64_t B, int64_t H, int64_t T, int64_t hd) {
  const double N = double(B) * double(T);
  return 4.0 * double(P) * N + 6.0 * double(A) * N +
         12.0 * double(L) * double(B) * double(H) * double(T) * double(T) * double(hd);
}

Result<TrainBenchResult> run_train_bench(const TrainBenchOptions& opt) {
  TrainBenchResult r;
  r.options = opt;
  PEFT_ASSIGN_OR_RETURN(LoadOptions base_flag, load_options_from_base_dtype(opt.base_dtype));
  if (opt.steps < 1 || opt.warmup < 0) return Status::errorf("--steps must be >= 1 and --warmup >= 0");
  const MethodDef* method = find_method(opt.method);
  if (!method) return Status::errorf("--method '{}' is unknown (supported: {})", opt.method, supported_methods());
  if (opt.model.empty()) PEFT_TRY(preset_config(opt.preset, opt.arch).status());
  int64_t B = opt.batch, T = opt.seq;
  {
    int64_t dB = 0, dT = 0;
    if (opt.model.empty()) {
      preset_default_batch(opt.preset, dB, dT);
    } else {  // a model file: one sequence of 512 (or its context)
      dB = 1;
      dT = 512;
    }
    if (B <= 0) B = dB;
    if (T <= 0) T = dT;
  }
  r.options.batch = B;
  r.options.seq = T;
  // Under MPI the batch is the global one: each rank trains B / N sequences of it and the
  // gradients are summed over the ranks (as `mpirun -np N peft train` does).
  const int world = dist::size();
  if (B % world != 0) return Status::errorf("--batch {} must be a multiple of the {} MPI ranks", B, world);
  const int64_t Bl = B / world;  // this rank's sequences
  r.ranks = world;

  auto t_load = Clock::now();
  PEFT_ASSIGN_OR_RETURN(auto model, bench_model(opt.model, opt.preset, opt.arch, base_flag, opt.seed));
  r.options.arch = model->config.arch;
  r.base_types = describe_base(*model);
  const ModelConfig& c = model->config;
  if (T + 1 > c.n_ctx) return Status::errorf("--seq {} exceeds the preset's context ({})", T, c.n_ctx);
  PEFT_ASSIGN_OR_RETURN(Json mcfg, method_config(*method, opt));
  PEFT_ASSIGN_OR_RETURN(auto adapter, method->create(*model, mcfg, "bench --method " + opt.method, opt.seed));
  Decoder dec(*model, Bl, T, adapter.get(), DecoderOptions{opt.gradient_checkpointing});
  adapter->reserve(Bl * (T + adapter->num_virtual_tokens()));
  AdamW optimizer(adapter->params(), AdamWHyper{3e-4f, 0.9f, 0.999f, 1e-8f, 0.0f});
  r.load_s = since(t_load);

  // Parameter counts: matmul weights of the base (the LM head counted once even when tied).
  for (const LayerWeights& l : model->layers)
    for (const Linear* x : {&l.q, &l.k, &l.v, &l.qkv, &l.o, &l.gate, &l.up, &l.down})
      r.matmul_params += linear_params(*x);
  r.matmul_params +=
      linear_params(model->lm_head) + linear_params(model->project_in) + linear_params(model->project_out);
  r.params = r.matmul_params + (model->lm_head.w.data == model->tok_embd.data ? 0 : model->tok_embd.numel()) +
             (model->pos_embd.data ? model->pos_embd.numel() : 0);
  r.trainable_params = adapter->params().numel();
  r.tokens_per_step = B * T;
  const int64_t Tt = T + adapter->num_virtual_tokens();
  r.flops_per_step = train_step_flops(r.matmul_params, r.trainable_params, c.n_layer, B, c.n_head, Tt, c.head_dim);

  Rng rng(opt.seed ^ 0x5eedull);
  std::vector<int32_t> ids(size_t(B * T));
  double fwd = 0, bwd = 0, opt_s = 0, total = 0, reduce_s = 0;
  for (int64_t step = 0; step < opt.warmup + opt.steps; ++step) {
    for (int32_t& id : ids) id = int32_t(rng.below(uint64_t(c.n_vocab)));
    const int32_t* mine = ids.data() + int64_t(dist::rank()) * Bl * T;  // this rank's rows of the batch
    adapt_threads();
    auto t0 = Clock::now();
    adapter->params().zero_grads();
    adapter->set_mode(AdapterRunMode{true, opt.seed + uint64_t(step), 2 * uint64_t(step) + 1});
    auto t1 = Clock::now();
    const float loss = dec.forward(mine, mine, Bl, T, true);
    auto t2 = Clock::now();
    dec.backward();
    auto tr = Clock::now();
    if (world > 1) {
      dist::allreduce_sum(adapter->params().grads(), adapter->params().numel());
      scale_grads(adapter->params(), 1.0f / float(world));
    }
    auto t3 = Clock::now();
    clip_grad_norm(adapter->params(), 1.0);
    optimizer.step(3e-4f);
    auto t4 = Clock::now();
    if (step == opt.warmup) r.first_loss = loss;
    r.last_loss = loss;
    if (step < opt.warmup) continue;
    fwd += std::chrono::duration<double>(t2 - t1).count();
    bwd += std::chrono::duration<double>(tr - t2).count();
    reduce_s += std::chrono::duration<double>(t3 - tr).count();
    opt_s += std::chrono::duration<double>(t4 - t3).count();
    total += std::chrono::duration<double>(t4 - t0).count();
  }
  r.threads = num_threads();  // the last step's: in automatic mode adapt_threads may change it
  const double n = double(opt.steps);
  r.step_s = total / n;
  r.forward_s = fwd / n;
  r.backward_s = bwd / n;
  r.optimizer_s = opt_s / n;
  r.allreduce_s = reduce_s / n;
  r.other_s = r.step_s - r.forward_s - r.backward_s - r.allreduce_s - r.optimizer_s;
  r.tokens_per_s = double(r.tokens_per_step) / r.step_s;
  r.gflops = r.flops_per_step / r.step_s / 1e9;
  r.peak_rss_mb = peak_rss_mb();  // before the reference GEMM allocates its buffers
  if (opt.measure_peak) {
    // BF16 and quantized bases (bf16 panels) run the bf16 GEMM: its peak is theirs.
    r.peak_gflops = matmul_peak_gflops(r.base_types == "F32" ? DType::F32 : DType::BF16);
    r.pct_of_peak = 100.0 * r.gflops / r.peak_gflops;
  }
  return r;
}

Json TrainBenchResult::to_json() const {
  const TrainBenchOptions& o = options;
  return Json{{"bench", "train"},
              {"engine", "peft.cpp"},
              {"preset", o.preset},
              {"arch", o.arch},
              {"method", o.method},
              {"base_dtype", o.base_dtype},
              {"base_types", base_types},
              {"model", o.model},
              {"batch", o.batch},
              {"seq", o.seq},
              {"gradient_checkpointing", o.gradient_checkpointing},
              {"steps", o.steps},
              {"warmup", o.warmup},
              {"threads", threads},
              {"ranks", ranks},
              {"allreduce_s", allreduce_s},
              {"params", params},
              {"matmul_params", matmul_params},
              {"trainable_params", trainable_params},
              {"tokens_per_step", tokens_per_step},
              {"tokens_per_s", tokens_per_s},
              {"step_s", step_s},
              {"forward_s", forward_s},
              {"backward_s", backward_s},
              {"optimizer_s", optimizer_s},
              {"other_s", other_s},
              {"flops_per_step", flops_per_step},
              {"gflops", gflops},
              {"peak_gflops", peak_gflops},
              {"pct_of_peak", pct_of_peak},
              {"peak_rss_mb", peak_rss_mb},
              {"load_s", load_s},
              {"first_loss", first_loss},
              {"last_loss", last_loss}};
}

std::string TrainBenchResult::to_text() const {
  const TrainBenchOptions& o = options;
  auto pct = [&](double s) { return step_s > 0 ? 100.0 * s / step_s : 0.0; };
  std::string out = fmt::format(
      "{} ({} {:.1f}M params, {} base) {} ({} trainable), batch {} x {}, {} threads, {} steps after {} warm-up\n",
      o.model.empty() ? o.preset : o.model, o.arch, double(params) / 1e6, base_types, o.method, trainable_params,
      o.batch, o.seq, threads, o.steps, o.warmup);
  out += fmt::format(
      "  {:.1f} tokens/s, {:.4f} s/step: forward {:.4f} ({:.0f}%), backward {:.4f} ({:.0f}%), "
      "optimizer {:.4f} ({:.0f}%), other {:.4f} ({:.0f}%)\n",
      tokens_per_s, step_s, forward_s, pct(forward_s), backward_s, pct(backward_s), optimizer_s, pct(optimizer_s),
      other_s, pct(other_s));
  if (ranks > 1)
    out += fmt::format("  {} MPI ranks ({} threads each): gradient all-reduce {:.5f} s/step ({:.1f}%)\n", ranks,
                       threads, allreduce_s, pct(allreduce_s));
  out += fmt::format("  {:.1f} GFLOP/s achieved ({:.3g} GFLOP/step)", gflops, flops_per_step / 1e9);
  if (peak_gflops > 0)
    out += fmt::format(", {:.0f}% of the measured {} matmul peak {:.1f} GFLOP/s", pct_of_peak,
                       base_types == "F32" ? "F32" : "BF16", peak_gflops);
  out += fmt::format("\n  peak RSS {:.1f} MB, loss {:.4f} -> {:.4f}, setup {:.2f} s\n", peak_rss_mb, first_loss,
                     last_loss, load_s);
  return out;
}

}  // namespace peft::bench
