// Checkpoint folders: adapter files, optimizer.safetensors, trainer_state.json.
#include "train/checkpoint.h"

#include <cstring>
#include <filesystem>

#include "adapters/adapter_io.h"
#include "io/atomic_output.h"
#include "io/safetensors.h"

namespace peft {

Status save_checkpoint(const std::string& dir, const Adapter& adapter, AdamW& optimizer, const TrainerState& state,
                       const std::string& base_model_path) {
  // The trainer owns its output folder (and holds its lock): a checkpoint of the same step is replaced.
  PEFT_ASSIGN_OR_RETURN(OutputDir out, OutputDir::create(dir, /*overwrite=*/true));
  // The trainable parameters themselves (not a folded export form): what resume reads back.
  PEFT_TRY(write_adapter_files(adapter, out.tmp_dir(), base_model_path, AdapterTensors::Params));
  const int64_t n = int64_t(optimizer.exp_avg().size());
  PEFT_TRY(write_safetensors(out.file("optimizer.safetensors"),
                             {{"exp_avg", Tensor(optimizer.exp_avg().data(), DType::F32, {n})},
                              {"exp_avg_sq", Tensor(optimizer.exp_avg_sq().data(), DType::F32, {n})}}));
  Json s = {{"step", state.step},
            {"optimizer_steps", optimizer.steps_taken()},
            {"batcher", state.batcher},
            {"identity", state.identity},
            {"extra", state.extra}};
  PEFT_TRY(write_json_file(out.file("trainer_state.json"), s));
  return out.commit();
}

Result<TrainerState> load_checkpoint(const std::string& dir, Adapter& adapter, AdamW& optimizer,
                                     const Json& expected_identity) {
  const std::string state_path = dir + "/trainer_state.json";
  PEFT_ASSIGN_OR_RETURN(Json s, read_json_file(state_path));
  if (!s.is_object() || !s.contains("identity") || !s.contains("batcher"))
    return Status::errorf("{}: not a peft.cpp trainer state", state_path);
  for (auto it = expected_identity.begin(); it != expected_identity.end(); ++it) {
    const Json found = s["identity"].contains(it.key()) ? s["identity"][it.key()] : Json();
    if (found != it.value())
      return Status::errorf("{}: the checkpoint was written with {} = {}, this run has {}", state_path, it.key(),
                            found.dump(), it.value().dump());
  }
  TrainerState state;
  PEFT_ASSIGN_OR_RETURN(state.step, json_get_int(s, "step", state_path));
  PEFT_ASSIGN_OR_RETURN(int64_t opt_steps, json_get_int(s, "optimizer_steps", state_path));
  state.batcher = s["batcher"];
  state.identity = s["identity"];
  if (s.contains("extra")) state.extra = s["extra"];

  const std::string weights = dir + "/adapter_model.safetensors";
  PEFT_ASSIGN_OR_RETURN(SafetensorsFile w, SafetensorsFile::open(weights));
  for (Param& p : adapter.params().all()) {
    const Tensor* t = w.find(p.name);
    if (!t || t->dims() != p.value.dims() || t->dtype != DType::F32)
      return Status::errorf("{}: tensor '{}' is missing or has another shape", weights, p.name);
    std::memcpy(p.value.data, t->data, p.value.nbytes());
  }
  const std::string opt_path = dir + "/optimizer.safetensors";
  PEFT_ASSIGN_OR_RETURN(SafetensorsFile o, SafetensorsFile::open(opt_path));
  const int64_t n = int64_t(optimizer.exp_avg().size());
  for (const char* name : {"exp_avg", "exp_avg_sq"}) {
    const Tensor* t = o.find(name);
    if (!t || t->numel() != n || t->dtype != DType::F32)
      return Status::errorf("{}: '{}' is missing or does not fit {} parameters", opt_path, name, n);
    auto& dst = std::string(name) == "exp_avg" ? optimizer.exp_avg() : optimizer.exp_avg_sq();
    std::memcpy(dst.data(), t->data, size_t(n) * sizeof(float));
  }
  optimizer.set_steps_taken(opt_steps);
  return state;
}

}  // namespace peft
