// Learning-rate schedules of the Hugging Face Trainer: linear warmup, then linear or cosine decay.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace peft {

enum class LrSchedule { Linear, Cosine, Constant };
std::optional<LrSchedule> lr_schedule_from_name(const std::string& name);

// The learning rate for optimizer step `step` (0-based, as the Trainer's LambdaLR sees it:
// with warmup the very first update uses 0). Linear: lr·step/warmup, then
// lr·(total − step)/(total − warmup); cosine: lr·½(1 + cos(π·progress)) after warmup.
double lr_at(LrSchedule schedule, double base_lr, int64_t step, int64_t warmup, int64_t total);

}  // namespace peft
