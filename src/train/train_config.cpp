// TrainConfig validation and the resume identity.
#include "train/train_config.h"

#include "train/lr_schedule.h"

namespace peft {

Status TrainConfig::validate() const {
  if (model.empty()) return Status::error("--model is required");
  if (data.empty()) return Status::error("--data is required");
  if (output.empty()) return Status::error("--output is required");
  if (!(learning_rate > 0)) return Status::errorf("--learning-rate must be positive, found {}", learning_rate);
  if (micro_batch_size <= 0) return Status::errorf("--micro-batch-size must be positive, found {}", micro_batch_size);
  if (batch_size <= 0 || batch_size % micro_batch_size != 0)
    return Status::errorf("--batch-size {} must be a positive multiple of --micro-batch-size {}", batch_size,
                          micro_batch_size);
  if (max_steps <= 0 && epochs <= 0) return Status::error("--epochs or --max-steps must be positive");
  if (warmup_steps < 0) return Status::error("--warmup-steps must be >= 0");
  if (!(warmup_ratio >= 0 && warmup_ratio <= 1)) return Status::error("--warmup-ratio must be in [0, 1]");
  if (!lr_schedule_from_name(lr_scheduler))
    return Status::errorf("--lr-scheduler '{}' is unknown (linear, cosine, constant)", lr_scheduler);
  if (weight_decay < 0) return Status::error("--weight-decay must be >= 0");
  if (cutoff_len < 2) return Status::errorf("--cutoff-len must be at least 2, found {}", cutoff_len);
  if (val_set_size < 0) return Status::error("--val-set-size must be >= 0");
  if (eval_steps <= 0 || save_steps <= 0 || logging_steps <= 0)
    return Status::error("--eval-steps, --save-steps and --logging-steps must be positive");
  if (!(adam_beta1 >= 0 && adam_beta1 < 1 && adam_beta2 >= 0 && adam_beta2 < 1 && adam_eps > 0))
    return Status::error("AdamW betas must be in [0, 1) and eps positive");
  return Status::ok();
}

Json TrainConfig::identity() const {
  return Json{{"method", method},
              {"method_config", method_config},
              {"config_file", config_file},
              {"data", data},
              {"data_format", data_format},
              {"base_dtype", base_dtype},
              {"learning_rate", learning_rate},
              {"batch_size", batch_size},
              {"micro_batch_size", micro_batch_size},
              {"epochs", epochs},
              {"max_steps", max_steps},
              {"warmup_steps", warmup_steps},
              {"warmup_ratio", warmup_ratio},
              {"lr_scheduler", lr_scheduler},
              {"weight_decay", weight_decay},
              {"adam", {adam_beta1, adam_beta2, adam_eps}},
              {"max_grad_norm", max_grad_norm},
              {"cutoff_len", cutoff_len},
              {"val_set_size", val_set_size},
              {"train_on_inputs", train_on_inputs},
              {"train_on_inputs_given", train_on_inputs_given},
              {"chat_template", chat_template},
              {"group_by_length", group_by_length},
              {"seed", std::to_string(seed)}};
}

}  // namespace peft
