// peft merge: fold an adapter into the base weights and write a plain Hugging Face folder.
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
  std::string model, adapter, out, base_dtype;
  std::optional<double> adapter_scale;
  bool overwrite = false;
};

Status run_merge(const MergeArgs& a) {
  PEFT_TRY(check_output_folder(a.out, a.overwrite));
  PEFT_ASSIGN_OR_RETURN(LoadOptions lo, load_options_from_flag(a.base_dtype));
  PEFT_ASSIGN_OR_RETURN(auto model, load_model(a.model, lo));
  PEFT_ASSIGN_OR_RETURN(auto adapter, load_cli_adapter(*model, a.adapter, a.adapter_scale));
  PEFT_TRY(adapter->merge_into(*model).with_context(a.adapter));
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
  sub->add_option("--out", args->out, "output folder (new or empty)")->required();
  sub->add_flag("--overwrite", args->overwrite,
                "replace an existing output: the files this command writes (others in the folder are kept)");
  sub->add_option("--base-dtype", args->base_dtype, "f32 or bf16 for the merged weights");
  sub->callback([args, &action] { action = [args] { return run_merge(*args); }; });
}

}  // namespace peft::cli
