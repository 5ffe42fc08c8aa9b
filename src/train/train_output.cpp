// prepare_train_output: refuse foreign content, lock, collect dead runs' temporaries.
#include "train/train_output.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "io/atomic_output.h"
#include "io/json_file.h"

namespace peft {

namespace fs = std::filesystem;

bool is_train_output_entry(const std::string& name) {
  static const char* const files[] = {"adapter_config.json", "adapter_model.safetensors", "adapter_model.bin",
                                      "metrics.jsonl", "train_summary.json"};
  for (const char* f : files)
    if (name == f) return true;
  const std::string prefix = "checkpoint-";
  return name.size() > prefix.size() && name.starts_with(prefix) &&
         name.find_first_not_of("0123456789", prefix.size()) == std::string::npos;
}

Result<TrainOutput> prepare_train_output(const std::string& output, const std::string& resume, bool overwrite) {
  PEFT_TRY(check_output_target(output, OutputKind::Folder));
  std::error_code ec;
  // Resuming from one of this folder's own checkpoints continues the run in place.
  const bool in_place =
      !resume.empty() && fs::exists(output, ec) &&
      fs::equivalent(fs::path(resume).parent_path().empty() ? "." : fs::path(resume).parent_path(), output, ec);
  if (!in_place && !overwrite) {
    Status s = check_output_folder(output, false);
    if (!s.is_ok())
      return Status::errorf("{} (to continue a run in it: --resume {}/checkpoint-N)", s.message(), output);
  }
  PEFT_ASSIGN_OR_RETURN(OutputLock lock, OutputLock::acquire(output));
  return TrainOutput{output, in_place, overwrite, std::move(lock)};
}

Status TrainOutput::open() {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::errorf("{}: cannot create the output folder ({})", dir, ec.message());
  remove_stale_temporaries(
      dir, [](const std::string& base) { return is_train_output_entry(base) || base.starts_with("checkpoint-"); });
  if (!overwrite || in_place) return Status::ok();
  std::vector<std::string> removed;
  for (const std::string& name : folder_entries(dir))
    if (is_train_output_entry(name)) {
      fs::remove_all(fs::path(dir) / name, ec);
      if (ec) return Status::errorf("{}/{}: cannot remove ({})", dir, name, ec.message());
      removed.push_back(name);
    }
  if (!removed.empty())
    fmt::print(stderr, "{}: --overwrite removed the previous run's {} (other entries kept)\n", dir,
               fmt::join(removed, ", "));
  return Status::ok();
}

Status truncate_metrics(const std::string& path, int64_t step) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::ok();  // no log yet
  std::string kept, line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (!check_json_depth(line, path).is_ok()) continue;
    const Json record = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    // A record of a later step (or a torn last line) belongs to the part being repeated.
    if (record.is_object() && record.contains("step") && record["step"].is_number_integer() &&
        record["step"].get<int64_t>() <= step)
      kept += line + "\n";
  }
  return write_file_atomic(path, kept);
}

}  // namespace peft
