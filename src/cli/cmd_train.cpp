// peft train: fine-tune an adapter (flags follow LLM-Adapters' finetune.py in kebab case).
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>

#include "adapters/registry.h"
#include "cli/command.h"
#include "cli/common.h"
#include "dist/comm.h"
#include "train/presets.h"
#include "train/trainer.h"

namespace peft::cli {

namespace {

struct TrainArgs {
  TrainConfig config;
  std::map<std::string, std::string> method_flags;  // flag → raw value, for every method's flags
  std::map<std::string, CLI::Option*> options;
};

Result<Json> flag_value(const MethodFlag& f, const std::string& raw) {
  try {
    switch (f.type) {
      case MethodFlag::Type::Int:
        return Json(std::stoll(raw));
      case MethodFlag::Type::Float: {
        const double v = std::stod(raw);
        if (!std::isfinite(v)) return Status::errorf("{} must be a finite number, found '{}'", f.flag, raw);
        return Json(v);
      }
      case MethodFlag::Type::Bool:
        if (raw == "true" || raw == "1" || raw.empty()) return Json(true);
        if (raw == "false" || raw == "0") return Json(false);
        break;
      case MethodFlag::Type::String:
        if (raw == "true") return Json(true);
        if (raw == "false") return Json(false);
        return Json(raw);
      case MethodFlag::Type::List: {
        // Module names are [A-Za-z0-9_.]; anything else (".*", "|", "(") makes it a regex,
        // matched against whole module paths as PEFT does with a string target_modules.
        if (raw == "all-linear" ||
            raw.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,- ") !=
                std::string::npos)
          return Json(raw);
        Json list = Json::array();
        std::stringstream ss(raw);
        for (std::string item; std::getline(ss, item, ',');) {
          if (item.empty()) continue;
          bool numeric = item.find_first_not_of("0123456789") == std::string::npos;
          list.push_back(numeric ? Json(std::stoll(item)) : Json(item));
        }
        return list;
      }
    }
  } catch (const std::exception&) {
  }
  return Status::errorf("{}: cannot read '{}'", f.flag, raw);
}

Status run_train(TrainArgs& a, const CLI::App& cmd) {
  TrainConfig& cfg = a.config;
  if (cfg.warmup_ratio > 0)
    PEFT_TRY(refuse_given(cmd, {"--warmup-steps"}, "and --warmup-ratio both set the warmup: give one"));
  if (cfg.max_steps > 0)
    PEFT_TRY(refuse_given(cmd, {"--epochs"}, "has no effect: --max-steps sets the length of the run"));
  if (cfg.val_set_size == 0)
    PEFT_TRY(refuse_given(cmd, {"--eval-steps"}, "has no effect with --val-set-size 0 (no validation set)"));
  if (cfg.data_format == "text")
    PEFT_TRY(
        refuse_given(cmd, {"--train-on-inputs"}, "has no effect on --data-format text (a text record has no prompt)"));
  cfg.train_on_inputs_given = cmd.get_option("--train-on-inputs")->count() > 0;
  const MethodDef* method = find_method(cfg.method);
  if (!method) return Status::errorf("--method '{}' is unknown (supported: {})", cfg.method, supported_methods());
  for (const auto& [flag, opt] : a.options) {
    if (opt->count() == 0) continue;
    bool belongs = false;
    for (const MethodFlag& f : method->flags) belongs |= flag == f.flag;
    if (!belongs) return Status::errorf("{} does not apply to --method {}", flag, cfg.method);
  }
  for (const MethodFlag& f : method->flags) {
    const bool given = a.options.at(f.flag)->count() > 0;
    if (!given && (!f.default_value || !cfg.config_file.empty())) continue;
    PEFT_ASSIGN_OR_RETURN(Json v, flag_value(f, given ? a.method_flags[f.flag] : f.default_value));
    cfg.method_config[f.key] = v;
  }
  PEFT_ASSIGN_OR_RETURN(TrainSummary s, train(cfg));
  if (!dist::is_root()) return Status::ok();  // rank 0 reports for the job
  std::printf("trained %lld steps: loss %.4f -> %.4f%s, %.0f tokens/s, %lld trainable parameters -> %s\n",
              (long long)s.steps, s.first_loss, s.last_loss,
              s.val_loss >= 0 ? fmt::format(", val_loss {:.4f}", s.val_loss).c_str() : "", s.tokens_per_s,
              (long long)s.trainable_params, cfg.output.c_str());
  return Status::ok();
}

}  // namespace

void add_train(CLI::App& app, Action& action) {
  auto a = std::make_shared<TrainArgs>();
  TrainConfig& c = a->config;
  CLI::App* sub = app.add_subcommand(
      "train",
      "fine-tune an adapter on a data set. Several processes (data parallel over MPI): mpirun -np N peft train ... "
      "(or srun): each takes its share of every global batch (--batch-size stays the global batch); rank 0 writes "
      "the outputs; --threads per process (mpirun --bind-to core/socket). See docs/distributed.md");
  // A repeated flag overrides the earlier one (scripts append overrides to a base command).
  sub->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  sub->add_option("--model,--base-model", c.model, "model folder")->required();
  sub->add_option("--data,--data-path", c.data,
                  "JSON/JSONL data (instruction/input/output or text), or GLUE/E2E with --data-format")
      ->required();
  sub->add_option("--output,--output-dir", c.output, "output folder")->required();
  sub->add_option("--method,--adapter-name", c.method, "lora (default)");
  sub->add_option("--config", c.config_file, "adapter_config.json with the method's settings");
  sub->add_option("--resume", c.resume, "checkpoint folder to continue from");
  sub->add_option("--data-format", c.data_format,
                  "auto | alpaca | alpaca-jsonl | text | glue (any GLUE TSV) | e2e | webnlg (WebNLG 2017 JSON) | dart "
                  "(DART JSON) | chat (messages "
                  "rendered with the model's chat template)");
  sub->add_option("--chat-template", c.chat_template,
                  "chat data: render with this template file instead of the model's (chat_template.jinja / "
                  "tokenizer_config.json)");
  sub->add_option("--task-type", c.task_type,
                  "seq-cls: an encoder with a sequence-classification head on GLUE data (the default for an encoder "
                  "with --data-format glue; a checkpoint without the head gets one, initialised as transformers "
                  "does); causal-lm: a decoder's LM");
  sub->add_flag("--reinit-head", c.reinit_head,
                "start a new classification head where the checkpoint's has another number of labels "
                "(transformers' ignore_mismatched_sizes)");
  sub->add_option("--base-dtype", c.base_dtype,
                  "base weights: f32, bf16 (every matrix), or q8_0|q4_0|q4_k|nf4 (a float checkpoint's projections "
                  "quantized at load); default the checkpoint's own (a quantized GGUF stays quantized)");
  sub->add_option("--learning-rate", c.learning_rate, "peak learning rate (default 3e-4)");
  sub->add_option("--batch-size", c.batch_size, "examples per optimizer step (default 128)");
  sub->add_option("--micro-batch-size", c.micro_batch_size, "examples per forward (default 4)");
  sub->add_option("--epochs,--num-epochs", c.epochs, "epochs (default 3)");
  sub->add_option("--max-steps", c.max_steps, "optimizer steps; overrides --epochs");
  sub->add_option("--warmup-steps", c.warmup_steps, "linear warmup steps (default 100)");
  sub->add_option("--warmup-ratio", c.warmup_ratio,
                  "warmup as a fraction of the run's steps, rounded up as transformers does (replaces --warmup-steps)");
  // Expanded before parsing (train/presets.h); registered here for --help only.
  static std::string preset_help;
  sub->add_option("--preset", preset_help,
                  "a published recipe's flags, placed before yours (yours override): " + train_preset_names());
  sub->add_option("--lr-scheduler", c.lr_scheduler, "linear (default), cosine or constant");
  sub->add_option("--weight-decay", c.weight_decay, "decoupled weight decay (default 0)");
  sub->add_option("--max-grad-norm", c.max_grad_norm, "gradient clipping norm (default 1.0; 0 = off)");
  sub->add_option("--cutoff-len", c.cutoff_len, "max tokens per example (default 256)");
  sub->add_option("--val-set-size", c.val_set_size, "held-out examples (default 2000)");
  sub->add_option("--train-on-inputs", c.train_on_inputs,
                  "include prompt tokens in the loss (default true; chat data: false, the loss is on the assistant "
                  "turns)");
  sub->add_option("--group-by-length", c.group_by_length, "length-grouped batches (default false)");
  sub->add_option("--gradient-checkpointing", c.gradient_checkpointing,
                  "keep only block inputs and recompute activations in the backward: less memory, one more "
                  "forward (default false)");
  sub->add_option("--seed", c.seed, "seed for init, order and dropout (default 42)");
  sub->add_flag("--overwrite", c.overwrite,
                "train into a non-empty --output: remove the previous run's adapter, metrics and checkpoints first "
                "(other files are kept)");
  sub->add_option("--eval-steps", c.eval_steps, "validate every N steps (default 200)");
  sub->add_option("--save-steps", c.save_steps, "checkpoint every N steps (default 200)");
  sub->add_option("--logging-steps", c.logging_steps, "progress every N steps (default 10)");
  for (const MethodDef* m : all_methods())
    for (const MethodFlag& f : m->flags)
      if (!a->options.count(f.flag)) {
        CLI::Option* o = f.type == MethodFlag::Type::Bool
                             ? sub->add_flag(std::string(f.flag) + "{true}", a->method_flags[f.flag], f.help)
                             : sub->add_option(f.flag, a->method_flags[f.flag], f.help);
        a->options[f.flag] = o;
      }
  sub->callback([a, sub, &action] { action = [a, sub] { return run_train(*a, *sub); }; });
}

}  // namespace peft::cli
