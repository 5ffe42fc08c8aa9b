// Loading, tokenising and splitting the training data; assembling the method config.
#include "train/train_data.h"

#include <algorithm>
#include <cstdio>

#include "data/batching.h"
#include "data/classifier_examples.h"
#include "data/dataset.h"
#include "data/segments.h"
#include "data/token_modality.h"
#include "data/tokenize_chat.h"
#include "tokenizer/model_tokenizer.h"

namespace peft {

namespace {

// The head a GLUE task needs: one regression output for STS-B, else one logit per class.
TaskSpec glue_head(const VerbalTask& task) {
  if (task.kind == VerbalKind::Score) return {TaskType::SeqCls, ProblemType::Regression, 1};
  return {TaskType::SeqCls, ProblemType::SingleLabel, int64_t(task.label_names.size())};
}

// --task-type and the data decide the encoder's head before the model loads (its head may
// need building, as transformers' AutoModelForSequenceClassification would).
Status choose_head(const TrainConfig& cfg, DataFormat format, LoadOptions& lo, std::optional<VerbalFile>& glue) {
  const std::string& t = cfg.task_type;
  if (!t.empty() && t != "seq-cls" && t != "causal-lm" && t != "token-cls")
    return Status::errorf("--task-type: expected seq-cls, token-cls or causal-lm, found '{}'", t);
  PEFT_ASSIGN_OR_RETURN(bool encoder, checkpoint_is_encoder(cfg.model));
  if (t == "token-cls")
    return Status::errorf(
        "--task-type token-cls: peft train has no token-classification data format yet (the head runs in peft "
        "logits); use seq-cls with --data-format glue");
  if (t == "causal-lm" && encoder)
    return Status::errorf("--task-type causal-lm: {} is an encoder, which has no LM head to train", cfg.model);
  if (t == "seq-cls" && !encoder)
    return Status::errorf(
        "--task-type seq-cls: {} is a decoder; a classification head is built for encoders (bert, roberta, "
        "deberta-v2); a decoder learns GLUE through verbalised prompts (--data-format glue without --task-type)",
        cfg.model);
  if (!t.empty() && t != "seq-cls" && cfg.reinit_head)
    return Status::errorf("--reinit-head applies to a classification head (--task-type seq-cls)");
  if (!encoder) {
    if (cfg.reinit_head)
      return Status::errorf("--reinit-head: {} is a decoder, with no classification head", cfg.model);
    return Status::ok();
  }
  const bool tsv = format == DataFormat::Glue || (format == DataFormat::Auto && cfg.data.ends_with(".tsv"));
  if (!tsv) return Status::ok();  // refused below, naming the format
  PEFT_ASSIGN_OR_RETURN(VerbalFile f, load_verbal_file("", cfg.data));
  lo.head.task = glue_head(*f.task);
  lo.head.reinit = cfg.reinit_head;
  lo.head.seed = cfg.seed;
  glue = std::move(f);
  return Status::ok();
}

}  // namespace

Result<TrainData> load_train_data(const TrainConfig& cfg) {
  TrainData d;
  PEFT_ASSIGN_OR_RETURN(LoadOptions lo, load_options_from_base_dtype(cfg.base_dtype));
  PEFT_ASSIGN_OR_RETURN(DataFormat format, parse_data_format(cfg.data_format));
  std::optional<VerbalFile> glue;
  PEFT_TRY(choose_head(cfg, format, lo, glue));
  PEFT_ASSIGN_OR_RETURN(d.model, load_model(cfg.model, lo));
  PEFT_ASSIGN_OR_RETURN(d.tokenizer, load_matching_tokenizer(*d.model, cfg.model));
  int64_t n_records = 0;
  if (!d.model->head.empty()) {  // a task head learns from labelled rows, not text
    const TaskSpec& head = d.model->task;
    if (head.task != TaskType::SeqCls)
      return Status::errorf(
          "{}: the model has a {} head; peft train reads sequence-classification data (GLUE TSV) only, token "
          "classification data is not supported yet",
          cfg.model, task_type_name(head.task));
    if (format != DataFormat::Glue && !(format == DataFormat::Auto && cfg.data.ends_with(".tsv")))
      return Status::errorf(
          "{}: the model has a sequence-classification head, which trains on a GLUE TSV (--data-format glue), not "
          "--data-format {}",
          cfg.data, cfg.data_format);
    if (!glue) {
      PEFT_ASSIGN_OR_RETURN(VerbalFile f, load_verbal_file("", cfg.data));
      glue = std::move(f);
    }
    PEFT_TRY(check_head_fits(head, *glue->task, cfg.data));
    n_records = int64_t(glue->rows.size());
    d.glue = std::move(*glue);
  } else {
    if (!d.model->config.causal)
      return Status::errorf(
          "{}: this {} encoder has no task head (config.json's architectures names no …ForSequenceClassification), "
          "and an encoder has no LM loss to train on text: train a classification head on a GLUE TSV "
          "(--data-format glue builds one)",
          cfg.model, d.model->config.arch);
    PEFT_ASSIGN_OR_RETURN(d.records, load_dataset(cfg.data, format));
    n_records = int64_t(d.records.size());
  }
  if (cfg.val_set_size >= n_records)
    return Status::errorf("--val-set-size {} leaves no training examples ({} has {} records)", cfg.val_set_size,
                          cfg.data, n_records);
  return d;
}

Status tokenize_train_data(const TrainConfig& cfg, TrainData& d, std::span<const std::string> modalities) {
  const int64_t segmented = count_segmented(d.records);
  if (segmented > 0 && modalities.empty())
    std::fprintf(stderr,
                 "note: %s: %lld records carry segments; --method %s takes no modalities, so they are ignored\n",
                 cfg.data.c_str(), static_cast<long long>(segmented), cfg.method.c_str());
  if (segmented > 0 && !modalities.empty()) PEFT_TRY(check_segment_modalities(d.records, modalities));
  const int64_t cutoff = std::min(cfg.cutoff_len, d.model->config.n_ctx);
  TokenizeOptions to{cutoff, cfg.train_on_inputs, true};
  std::vector<TokenizedExample> all;
  if (d.glue) {
    PEFT_ASSIGN_OR_RETURN(all, classifier_examples(*d.tokenizer, *d.glue, d.model->task, cutoff, cfg.data));
    d.glue.reset();
  }
  const bool chat =
      std::any_of(d.records.begin(), d.records.end(), [](const Record& r) { return r.kind == RecordKind::Chat; });
  if (!all.empty()) {
    // the head's examples (above)
  } else if (!chat) {
    all = tokenize_records(*d.tokenizer, d.records, to);
  } else {
    PEFT_ASSIGN_OR_RETURN(ChatTemplate tmpl, cfg.chat_template.empty() ? load_model_chat_template(cfg.model)
                                                                       : load_chat_template_file(cfg.chat_template));
    ChatRenderOptions ro;
    ro.bos_token = !tmpl.bos_token.empty() ? tmpl.bos_token : d.tokenizer->token_text(d.tokenizer->bos_id());
    ro.eos_token = !tmpl.eos_token.empty() ? tmpl.eos_token : d.tokenizer->token_text(d.tokenizer->eos_id());
    const bool chat_inputs = cfg.train_on_inputs_given && cfg.train_on_inputs;
    all.reserve(d.records.size());
    for (const Record& r : d.records) {
      if (r.kind != RecordKind::Chat) {
        all.push_back(tokenize_record(*d.tokenizer, r, to));
        continue;
      }
      PEFT_ASSIGN_OR_RETURN(TokenizedExample e, tokenize_chat_record(*d.tokenizer, tmpl, r, ro, cutoff, chat_inputs));
      all.push_back(std::move(e));
    }
  }
  if (segmented > 0 && !modalities.empty()) PEFT_TRY(assign_modalities(*d.tokenizer, d.records, all, modalities));
  for (const TokenizedExample& e : all) {
    d.truncated += e.truncated;
    d.max_len = std::max<int64_t>(d.max_len, int64_t(e.ids.size()));
  }
  PEFT_ASSIGN_OR_RETURN(TrainValSplit split, train_val_split(int64_t(all.size()), cfg.val_set_size, cfg.seed));
  // Moved, not copied: the tokenized set is the largest thing held besides the model.
  d.train.reserve(split.train.size());
  d.val.reserve(split.val.size());
  for (int64_t i : split.train) d.train.push_back(std::move(all[size_t(i)]));
  for (int64_t i : split.val) d.val.push_back(std::move(all[size_t(i)]));
  d.records = {};
  if (d.max_len < 2) return Status::errorf("{}: every example is shorter than 2 tokens", cfg.data);
  return Status::ok();
}

Result<Json> build_method_config(const TrainConfig& cfg, const MethodDef& method) {
  Json config = Json::object();
  if (!cfg.config_file.empty()) {
    PEFT_ASSIGN_OR_RETURN(config, read_json_file(cfg.config_file));
    if (!config.is_object()) return Status::errorf("{}: expected a JSON object", cfg.config_file);
    if (config.contains("peft_type") && config["peft_type"].is_string() &&
        find_method(config["peft_type"].get<std::string>()) != &method)
      return Status::errorf("{}: peft_type {} does not match --method {}", cfg.config_file, config["peft_type"].dump(),
                            cfg.method);
  }
  for (auto it = cfg.method_config.begin(); it != cfg.method_config.end(); ++it) config[it.key()] = it.value();
  return config;
}

}  // namespace peft
