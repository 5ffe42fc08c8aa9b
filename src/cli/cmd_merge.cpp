// peft merge: fold an adapter into the base weights and write a plain Hugging Face folder, or a
// GGUF file at a chosen type with a report of what requantizing the merged weights costs.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

#include "adapters/adapter_io.h"
#include "cli/command.h"
#include "cli/common.h"
#include "io/output_target.h"
#include "model/save_model.h"

namespace peft::cli {

namespace {
struct MergeArgs {
  std::string model, adapter, out, base_dtype, type;
  std::optional<double> adapter_scale;
  bool overwrite = false;
};

// One line per lossy tensor and the total: RMS and max error of the stored merged weights.
void print_storage_report(const std::vector<StorageError>& errors) {
  double se = 0, sw = 0, worst = 0;
  int64_t n = 0;
  for (const StorageError& e : errors) {
    std::fprintf(stderr, "  %-40s %-5s rms error %.3e (%.2f%% of the weights' rms %.3e), max %.3e\n", e.tensor.c_str(),
                 ggml_type_name(uint32_t(e.type)), e.rms_error, 100.0 * e.rms_error / std::max(e.rms_weight, 1e-30),
                 e.rms_weight, e.max_error);
    se += e.rms_error * e.rms_error * double(e.numel);
    sw += e.rms_weight * e.rms_weight * double(e.numel);
    worst = std::max(worst, e.max_error);
    n += e.numel;
  }
  if (n == 0) {
    std::fprintf(stderr, "storage error: none (every matrix written exactly)\n");
    return;
  }
  std::fprintf(stderr,
               "storage error over %zu matrices (%lld values): rms %.3e (%.2f%% of the weights' rms), max %.3e\n",
               errors.size(), static_cast<long long>(n), std::sqrt(se / double(n)), 100.0 * std::sqrt(se / sw), worst);
}

Status run_merge(const MergeArgs& a) {
  const bool gguf = a.out.ends_with(".gguf");
  if (!gguf && !a.type.empty())
    return Status::errorf("--type applies to a .gguf --out (a Hugging Face folder keeps --base-dtype)");
  if (gguf) {
    PEFT_TRY(check_output_file(a.out, a.overwrite));
    PEFT_ASSIGN_OR_RETURN(LoadOptions lo, load_options_from_flag(a.base_dtype, a.adapter));
    PEFT_ASSIGN_OR_RETURN(auto model, load_model(a.model, lo));
    PEFT_ASSIGN_OR_RETURN(auto adapter, load_cli_adapter(*model, a.adapter, a.adapter_scale));
    PEFT_TRY(adapter->merge(*model).with_context(a.adapter));
    std::vector<StorageError> errors;
    PEFT_TRY(write_model_gguf(*model, a.model, a.out, a.type, "", &errors));
    std::fprintf(stderr, "merged %s into %s -> %s (%s); storage error of the merged weights:\n", a.adapter.c_str(),
                 a.model.c_str(), a.out.c_str(), a.type.empty() ? "f32" : a.type.c_str());
    print_storage_report(errors);
    return Status::ok();
  }
  PEFT_TRY(check_output_folder(a.out, a.overwrite));
  PEFT_ASSIGN_OR_RETURN(LoadOptions lo, load_options_from_flag(a.base_dtype, a.adapter));
  PEFT_ASSIGN_OR_RETURN(auto model, load_model(a.model, lo));
  PEFT_ASSIGN_OR_RETURN(auto adapter, load_cli_adapter(*model, a.adapter, a.adapter_scale));
  PEFT_TRY(adapter->merge(*model).with_context(a.adapter));
  PEFT_TRY(save_hf_folder(*model, a.out, a.model, a.overwrite));
  std::fprintf(stderr, "merged %s into %s -> %s\n", a.adapter.c_str(), a.model.c_str(), a.out.c_str());
  return Status::ok();
}
}  // namespace

void add_merge(CLI::App& app, Action& action) {
  auto args = std::make_shared<MergeArgs>();
  CLI::App* sub = app.add_subcommand("merge", "merge an adapter into the model, write a Hugging Face folder");
  sub->add_option("--model", args->model, "base model")->required();
  sub->add_option("--adapter", args->adapter, "adapter: a PEFT folder or a GGUF LoRA file")->required();
  sub->add_option("--adapter-scale", args->adapter_scale, "merge the LoRA update multiplied by this (default 1)");
  sub->add_option("--out", args->out, "output folder (new or empty), or a .gguf file (llama.cpp's format, at --type)")
      ->required();
  sub->add_option("--type", args->type,
                  "for a .gguf --out: f32 (default), f16, bf16, q8_0, q4_0 or q4_k; prints the error storing the "
                  "merged weights at it adds, per tensor and overall (a matrix already held in that type and "
                  "untouched by the adapter is copied exactly)");
  sub->add_flag("--overwrite", args->overwrite,
                "replace an existing output: the files this command writes (others in the folder are kept)");
  sub->add_option(
      "--base-dtype", args->base_dtype,
      "f32 or bf16 for the weights of a folder; a quantized GGUF base's matrices are written decoded as bf16 "
      "(its merged ones f32) unless --base-dtype f32");
  sub->callback([args, &action] { action = [args] { return run_merge(*args); }; });
}

}  // namespace peft::cli
