// LR schedules (transformers' get_linear/cosine_schedule_with_warmup).
#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace peft {

std::optional<LrSchedule> lr_schedule_from_name(const std::string& name) {
  if (name == "linear") return LrSchedule::Linear;
  if (name == "cosine") return LrSchedule::Cosine;
  if (name == "constant") return LrSchedule::Constant;
  return std::nullopt;
}

double lr_at(LrSchedule schedule, double base_lr, int64_t step, int64_t warmup, int64_t total) {
  if (step < warmup) return base_lr * double(step) / double(std::max<int64_t>(1, warmup));
  switch (schedule) {
    case LrSchedule::Constant:
      return base_lr;
    case LrSchedule::Linear:
      return base_lr * std::max(0.0, double(total - step) / double(std::max<int64_t>(1, total - warmup)));
    case LrSchedule::Cosine: {
      const double progress = double(step - warmup) / double(std::max<int64_t>(1, total - warmup));
      return base_lr * std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progress)));
    }
  }
  return base_lr;
}

}  // namespace peft
