// Training loop: gradient accumulation, clipping, LR schedule, evaluation, checkpoints, resume.
#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "adapters/adapter_io.h"
#include "adapters/registry.h"
#include "core/memory.h"
#include "core/threads.h"
#include "data/batching.h"
#include "data/dataset.h"
#include "dist/comm.h"
#include "io/safetensors.h"
#include "model/decoder.h"
#include "tokenizer/tokenizer.h"
#include "train/checkpoint.h"
#include "train/lr_schedule.h"
#include "train/optimizer.h"
#include "train/progress.h"
#include "train/train_data.h"
#include "train/train_output.h"

namespace peft {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The batch's modality ids, when its examples carry any (segments in the data); an
// encoder's token types and row lengths (right padding).
TokenInputs token_inputs(const MicroBatch& mb) {
  TokenInputs in{mb.modality.empty() ? nullptr : mb.modality.data()};
  if (!mb.token_types.empty()) in.token_types = mb.token_types.data();
  in.seq_lens = mb.lengths.data();
  return in;
}

// The micro-batch's loss: the task head's (examples with task labels) or the LM's.
float forward_loss(Decoder& dec, const MicroBatch& mb) {
  if (!mb.task_labels.empty())
    return dec.forward_task(mb.ids.data(), mb.task_labels.data(), mb.B, mb.T, false, token_inputs(mb));
  return dec.forward(mb.ids.data(), mb.labels.data(), mb.B, mb.T, false, token_inputs(mb));
}

// Mean loss over a set of examples (token-weighted), no dropout, no gradients. Under MPI the
// micro-batches are dealt to the ranks in turn and the sums added up: every rank gets the
// loss of the whole set.
double evaluate(Decoder& dec, Adapter& adapter, std::span<const TokenizedExample> examples, int64_t micro,
                int32_t pad_id) {
  adapter.set_mode(AdapterRunMode{false, 0});
  double sums[2] = {0, 0};  // token-weighted loss, tokens
  std::vector<int64_t> idx;
  for (int64_t start = 0, k = 0; start < int64_t(examples.size()); start += micro, ++k) {
    if (k % dist::size() != dist::rank()) continue;
    idx.clear();
    for (int64_t i = start; i < std::min<int64_t>(start + micro, int64_t(examples.size())); ++i) idx.push_back(i);
    MicroBatch mb = collate(examples, idx, pad_id);
    const float loss = forward_loss(dec, mb);
    sums[0] += double(loss) * double(dec.loss_tokens());
    sums[1] += double(dec.loss_tokens());
  }
  dist::allreduce_sum(sums, 2);
  return sums[1] > 0 ? sums[0] / sums[1] : 0.0;
}

// The step's logged terms (name → sum over this rank's micro-batches) summed over the ranks;
// a rank without micro-batches this step has none, so they travel by name ("name value" lines,
// values printed exactly, NaN and inf included).
void sum_logged_over_ranks(std::map<std::string, double>& logged) {
  if (dist::size() == 1) return;
  std::string mine;
  for (const auto& [name, value] : logged) mine += fmt::format("{} {:.17g}\n", name, value);
  logged.clear();
  for (const std::string& text : dist::allgather(mine)) {
    std::istringstream in(text);
    std::string name, value;
    while (in >> name >> value) logged[name] += std::strtod(value.c_str(), nullptr);
  }
}

}  // namespace

Result<TrainSummary> train(const TrainConfig& cfg) {
  PEFT_TRY(cfg.validate());
  // Under MPI (mpirun -np N peft train ...) every rank runs this function on the same data,
  // builds the same adapter from the same seed and takes its share of every global batch;
  // rank 0 alone owns the output folder. A rank that fails reports its error and every rank
  // stops (dist::agree), so none waits forever in a collective.
  const bool root = dist::is_root();
  // The output first: a refused folder costs nothing, and the lock keeps a second run out.
  std::optional<TrainOutput> output;
  {
    Status st = Status::ok();
    if (root) {
      auto o = prepare_train_output(cfg.output, cfg.resume, cfg.overwrite);
      if (o.is_ok())
        output.emplace(std::move(*o));
      else
        st = o.status();
    }
    PEFT_TRY(dist::agree(st, "preparing the output folder " + cfg.output));
  }
  auto loaded = load_train_data(cfg);
  PEFT_TRY(dist::agree(loaded.status(), "loading the model and the data"));
  TrainData data = std::move(*loaded);
  const MethodDef* method = find_method(cfg.method);
  if (!method) return Status::errorf("--method '{}' is unknown (supported: {})", cfg.method, supported_methods());
  PEFT_ASSIGN_OR_RETURN(Json method_config, build_method_config(cfg, *method));
  PEFT_ASSIGN_OR_RETURN(auto adapter,
                        method->create(*data.model, method_config,
                                       cfg.config_file.empty() ? "--method flags" : cfg.config_file, cfg.seed));
  const std::vector<std::string> modalities = adapter->modalities();
  PEFT_TRY(dist::agree(tokenize_train_data(cfg, data, modalities), "tokenizing the data"));
  release_free_heap();  // the parsed JSON and raw records are gone: give their pages back
  TrainSummary summary;
  summary.trainable_params = adapter->params().numel();
  summary.train_examples = int64_t(data.train.size());
  summary.val_examples = int64_t(data.val.size());
  summary.truncated = data.truncated;

  // A global batch larger than the data would make one step outlast every epoch (and a
  // micro-batch larger than it sizes buffers for rows that never come): clamp both to the
  // data, in whole micro-batches, and say so.
  const int64_t n_train = int64_t(data.train.size());
  const int64_t micro = std::min(cfg.micro_batch_size, n_train);
  int64_t batch = cfg.batch_size;
  if (batch > n_train) {
    batch = std::max(micro, n_train / micro * micro);
    fmt::print(stderr, "note: --batch-size {} exceeds the {} training examples; using {} ({} x {})\n", cfg.batch_size,
               n_train, batch, batch / micro, micro);
  }
  const int64_t accum = batch / micro;
  const DecoderOptions dec_options{cfg.gradient_checkpointing};
  // Everything the run allocates up front, before allocating it: the decoder arena (twice
  // for a consistency loss) and the activations the adapter keeps.
  {
    const int64_t arena = Decoder::arena_bytes(*data.model, micro, data.max_len, adapter.get(), dec_options);
    const int64_t decoders = adapter->train_step_decoders();
    PEFT_TRY(
        dist::agree(check_memory(checked_mul(arena, decoders),
                                 fmt::format("training with micro-batches of {} x {} tokens", micro, data.max_len)),
                    "checking memory"));
  }
  Decoder dec(*data.model, micro, data.max_len, adapter.get(), dec_options);
  // DeBERTa's relative-embedding rows pass the q/k projections with the tokens.
  adapter->reserve(micro * (data.max_len + adapter->num_virtual_tokens()) + data.model->config.rel.rows());
  // How the method trains a micro-batch: one pass, or its own (two routed passes and a
  // consistency loss on a second decoder it owns, say).
  const std::unique_ptr<TrainStep> train_step = adapter->make_train_step(dec);
  AdamW optimizer(adapter->params(), AdamWHyper{float(cfg.learning_rate), float(cfg.adam_beta1), float(cfg.adam_beta2),
                                                float(cfg.adam_eps), float(cfg.weight_decay)});
  BatcherOptions bo;
  bo.micro_batch_size = micro;
  bo.group_by_length = cfg.group_by_length;
  bo.seed = cfg.seed;
  bo.pad_id = data.pad_id;
  PEFT_TRY(bo.validate());
  Batcher batcher(data.train, bo);
  const int64_t steps_per_epoch = std::max<int64_t>(1, batcher.batches_per_epoch() / accum);
  const int64_t total = cfg.max_steps > 0 ? cfg.max_steps : cfg.epochs * steps_per_epoch;
  const LrSchedule schedule = *lr_schedule_from_name(cfg.lr_scheduler);
  // transformers' get_warmup_steps: ceil(total · ratio) when a ratio is given.
  const int64_t warmup = cfg.warmup_ratio > 0 ? int64_t(std::ceil(double(total) * cfg.warmup_ratio)) : cfg.warmup_steps;

  PEFT_TRY(dist::agree(root ? output->open() : Status::ok(), "creating the output folder " + cfg.output));
  int64_t step = 0;
  if (!cfg.resume.empty()) {  // every rank reads the checkpoint; any N resumes any N's checkpoint
    auto resume = [&]() -> Status {
      PEFT_ASSIGN_OR_RETURN(TrainerState st, load_checkpoint(cfg.resume, *adapter, optimizer, cfg.identity()));
      PEFT_ASSIGN_OR_RETURN(BatcherState bs, batcher_state_from_json(st.batcher, cfg.resume + "/trainer_state.json"));
      PEFT_TRY(batcher.restore(bs));
      step = st.step;
      return Status::ok();
    };
    PEFT_TRY(dist::agree(resume(), "reading the checkpoint " + cfg.resume));
    PEFT_TRY(dist::agree(root ? truncate_metrics(cfg.output + "/metrics.jsonl", step) : Status::ok(),
                         "cutting metrics.jsonl back"));
  }
  std::optional<MetricsLog> metrics;
  {
    Status st = Status::ok();
    if (root) {
      auto m = MetricsLog::open(cfg.output + "/metrics.jsonl", !cfg.resume.empty());
      if (m.is_ok())
        metrics.emplace(std::move(*m));
      else
        st = m.status();
    }
    PEFT_TRY(dist::agree(st, "opening metrics.jsonl"));
  }
  std::string last_checkpoint = cfg.resume;

  ProgressBar bar(root ? total : 0);
  const int world = dist::size(), me = dist::rank();
  if (root)
    bar.note(fmt::format("training {} ({} trainable parameters) on {} examples ({} held out), {} steps of {} x {}{}",
                         cfg.method, summary.trainable_params, data.train.size(), data.val.size(), total, accum, micro,
                         world > 1 ? fmt::format(", micro-batches dealt to {} MPI ranks", world) : ""));
  auto run_start = std::chrono::steady_clock::now();
  int64_t run_tokens = 0;
  bool first = true;
  while (step < total) {
    adapt_threads();  // the cores other processes leave free (core/threads.h)
    auto t0 = std::chrono::steady_clock::now();
    adapter->params().zero_grads();
    double loss_sum = 0;
    std::map<std::string, double> logged;  // the step's other terms, summed over micro-batches
    int64_t tokens = 0;
    for (int64_t a = 0; a < accum; ++a) {
      // Every rank draws every micro-batch (the single-process order) and trains its own
      // share: micro-batch a goes to rank a mod N.
      MicroBatch mb = batcher.next();
      if (a % world != me) continue;
      // Per micro-batch: the seed of its dropout masks and routing.
      const uint64_t pass = cfg.seed * 1000003ull + uint64_t(step) * 4099ull + uint64_t(a);
      const StepLoss sl = train_step->run(StepBatch{mb.ids.data(), mb.labels.data(), mb.B, mb.T, token_inputs(mb),
                                                    mb.task_labels.empty() ? nullptr : mb.task_labels.data()},
                                          pass);
      loss_sum += sl.loss;
      for (const auto& [name, value] : sl.logged) logged[name] += value;
      tokens += mb.n_tokens;
    }
    double reduce_s = 0;
    if (world > 1) {  // the global batch's gradient, loss and tokens on every rank
      const auto tr = std::chrono::steady_clock::now();
      dist::allreduce_sum(adapter->params().grads(), adapter->params().numel());
      reduce_s = seconds_since(tr);
      double sums[2] = {loss_sum, double(tokens)};
      dist::allreduce_sum(sums, 2);
      loss_sum = sums[0];
      tokens = int64_t(sums[1]);
      sum_logged_over_ranks(logged);
    }
    scale_grads(adapter->params(), 1.0f / float(accum));
    const double norm = clip_grad_norm(adapter->params(), cfg.max_grad_norm);
    // A non-finite loss or gradient would turn every parameter into NaN: stop before the
    // update, with the adapter files never written and the checkpoints intact.
    if (!std::isfinite(loss_sum) || !std::isfinite(norm))
      return Status::errorf(
          "step {}: the {} is {}; training stopped before the update ({}) — lower --learning-rate "
          "or check the data",
          step + 1, std::isfinite(loss_sum) ? "gradient norm" : "loss", std::isfinite(loss_sum) ? norm : loss_sum,
          last_checkpoint.empty() ? std::string("no checkpoint was written yet")
                                  : "the last good checkpoint is " + last_checkpoint);
    const double lr = lr_at(schedule, cfg.learning_rate, step, warmup, total);
    optimizer.step(float(lr));
    ++step;
    const double loss = loss_sum / double(accum), dt = seconds_since(t0);
    run_tokens += tokens;
    const double tps = double(run_tokens) / seconds_since(run_start);
    if (first) summary.first_loss = loss;
    first = false;
    summary.last_loss = loss;
    Json record = {{"step", step},      {"epoch", double(step) / double(steps_per_epoch)},
                   {"loss", loss},      {"lr", lr},
                   {"grad_norm", norm}, {"tokens", tokens},
                   {"step_s", dt},      {"tokens_per_s", tps}};
    for (const auto& [name, sum] : logged) record[name] = sum / double(accum);  // e.g. a consistency term
    if (world > 1) record["allreduce_s"] = reduce_s;  // rank 0's wait in the gradient all-reduce
    const bool eval_now = !data.val.empty() && (step % cfg.eval_steps == 0 || step == total);
    if (eval_now) {
      summary.val_loss = evaluate(dec, *adapter, data.val, micro, data.pad_id);
      record["val_loss"] = summary.val_loss;
      if (root) bar.note(fmt::format("step {}: val_loss {:.4f}", step, summary.val_loss));
    }
    // Rank 0 writes; every rank learns whether it could (one small collective per step).
    Status wrote = root ? metrics->write(record) : Status::ok();
    if (root && (step % cfg.logging_steps == 0 || step == total || step == 1)) bar.update(step, loss, lr, tps);
    if (step % cfg.save_steps == 0 || step == total) {
      TrainerState st{step, batcher_state_to_json(batcher.state()), cfg.identity(), Json{{"loss", loss}}};
      last_checkpoint = cfg.output + "/checkpoint-" + std::to_string(step);
      if (root && wrote.is_ok()) wrote = save_checkpoint(last_checkpoint, *adapter, optimizer, st, cfg.model);
    }
    PEFT_TRY(dist::agree(wrote, fmt::format("writing step {}'s metrics and checkpoint", step)));
  }
  if (root) bar.finish();
  summary.steps = step;
  summary.tokens_per_s = run_tokens ? double(run_tokens) / seconds_since(run_start) : 0.0;
  if (!root)
    return dist::agree(Status::ok(), "writing the adapter").is_ok()
               ? Result<TrainSummary>(summary)
               : Status::error("rank 0 could not write the adapter");
  PEFT_TRY(dist::agree(write_adapter_files(*adapter, cfg.output, cfg.model), "writing the adapter"));
  PEFT_TRY(write_json_file(cfg.output + "/train_summary.json", Json{{"steps", summary.steps},
                                                                    {"trainable_params", summary.trainable_params},
                                                                    {"first_loss", summary.first_loss},
                                                                    {"last_loss", summary.last_loss},
                                                                    {"val_loss", summary.val_loss},
                                                                    {"tokens_per_s", summary.tokens_per_s},
                                                                    {"train_examples", summary.train_examples},
                                                                    {"val_examples", summary.val_examples},
                                                                    {"truncated", summary.truncated},
                                                                    {"config", cfg.identity()}}));
  return summary;
}

}  // namespace peft
