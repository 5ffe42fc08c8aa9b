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

Result<TrainData> load_train_data(const TrainConfig& cfg) {
  TrainData d;
  PEFT_ASSIGN_OR_RETURN(LoadOptions lo, load_options_from_base_dtype(cfg.base_dtype));
  PEFT_ASSIGN_OR_RETURN(d.model, load_model(cfg.model, lo));
  PEFT_ASSIGN_OR_RETURN(d.tokenizer, load_matching_tokenizer(*d.model, cfg.model));
  PEFT_ASSIGN_OR_RETURN(DataFormat format, parse_data_format(cfg.data_format));
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
    PEFT_ASSIGN_OR_RETURN(VerbalFile f, load_verbal_file("", cfg.data));
    PEFT_TRY(check_head_fits(head, *f.task, cfg.data));
    n_records = int64_t(f.rows.size());
    d.glue = std::move(f);
  } else {
    if (!d.model->config.causal)
      return Status::errorf(
          "{}: this {} encoder has no task head (config.json's architectures names no …ForSequenceClassification), "
          "and an encoder has no LM loss to train on text: use a sequence-classification checkpoint with "
          "--data-format glue",
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
