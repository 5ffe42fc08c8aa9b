// peft logits: input_ids from a safetensors file → logits (B, T, V) into another.
#include <memory>
#include <optional>
#include <vector>

#include "adapters/adapter_io.h"
#include "cli/command.h"
#include "cli/common.h"
#include "io/output_target.h"
#include "io/safetensors.h"
#include "model/generate.h"
#include "model/inference.h"

namespace peft::cli {

namespace {
struct LogitsArgs {
  std::string model, adapter, input, output, base_dtype;
  std::optional<double> adapter_scale;
  bool overwrite = false;
};

// input_ids (B, T) as I64 or I32 → int32 with range checks.
Result<std::vector<int32_t>> read_input_ids(const SafetensorsFile& f, int64_t& B, int64_t& T) {
  const Tensor* t = f.find("input_ids");
  if (!t) return Status::errorf("{}: no tensor 'input_ids'", f.path());
  if (t->ndim != 2 || t->dim(0) <= 0 || t->dim(1) <= 0)
    return Status::errorf("{}: input_ids must have shape [B, T] with B, T > 0, found {}", f.path(), t->shape_str());
  if (t->dtype != DType::I64 && t->dtype != DType::I32)
    return Status::errorf("{}: input_ids must be I64 or I32, found {}", f.path(), dtype_name(t->dtype));
  B = t->dim(0);
  T = t->dim(1);
  std::vector<int32_t> ids(size_t(B * T));
  for (int64_t i = 0; i < B * T; ++i) {
    int64_t v = t->dtype == DType::I64 ? t->i64()[i] : t->i32()[i];
    if (v < 0 || v > INT32_MAX) return Status::errorf("{}: input_ids[{}] = {} is not a valid token id", f.path(), i, v);
    ids[size_t(i)] = int32_t(v);
  }
  return ids;
}

Status run_logits(const LogitsArgs& a) {
  PEFT_TRY(check_output_file(a.output, a.overwrite));
  PEFT_ASSIGN_OR_RETURN(LoadOptions lo, load_options_from_flag(a.base_dtype));
  PEFT_ASSIGN_OR_RETURN(auto model, load_model(a.model, lo));
  PEFT_ASSIGN_OR_RETURN(SafetensorsFile in, SafetensorsFile::open(a.input));
  int64_t B = 0, T = 0;
  PEFT_ASSIGN_OR_RETURN(std::vector<int32_t> ids, read_input_ids(in, B, T));
  PEFT_TRY(check_token_ids(*model, ids.data(), B * T, a.input + ": input_ids"));
  if (T > model->config.n_ctx)
    return Status::errorf("{}: sequence length {} exceeds the model's context {}", a.input, T, model->config.n_ctx);
  const int64_t V = model->config.n_vocab;
  PEFT_ASSIGN_OR_RETURN(std::unique_ptr<Adapter> adapter, load_cli_adapter(*model, a.adapter, a.adapter_scale));
  // Prompt tuning puts virtual tokens in front; their logits come first, as in PEFT.
  const int64_t nv = adapter ? adapter->num_virtual_tokens() : 0;
  OwnedTensor logits(DType::F32, {B, nv + T, V});
  InferenceRunner runner(*model, B, T, T, adapter.get());
  runner.forward(ids.data(), T, logits.f32(), /*all_positions=*/true);
  return write_safetensors(a.output, {{"logits", logits.view()}}, {{"format", "pt"}});
}
}  // namespace

void add_logits(CLI::App& app, Action& action) {
  auto args = std::make_shared<LogitsArgs>();
  CLI::App* sub = app.add_subcommand("logits", "write the model's logits for given input_ids");
  sub->add_option("--model", args->model, "model folder")->required();
  sub->add_option("--adapter", args->adapter, "adapter to apply: a PEFT folder or a GGUF LoRA file");
  sub->add_option("--adapter-scale", args->adapter_scale,
                  "multiply the LoRA update by this (llama.cpp's --lora-scaled; default 1)");
  sub->add_option("--input", args->input, "safetensors file with input_ids [B, T] (I64 or I32)")->required();
  sub->add_option("--output", args->output, "safetensors file to write logits [B, T, V] to (new)")->required();
  sub->add_flag("--overwrite", args->overwrite, "replace an existing output file");
  sub->add_option("--base-dtype", args->base_dtype,
                  "base weights: f32, bf16 (every matrix), or q8_0|q4_0|q4_k|nf4 (a float checkpoint's projections "
                  "quantized at load); default the checkpoint's own (a quantized GGUF stays quantized)");
  sub->callback([args, &action] { action = [args] { return run_logits(*args); }; });
}

}  // namespace peft::cli
