// peft logits: input_ids from a safetensors file → logits (B, T, V) into another.
#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "adapters/adapter_io.h"
#include "cli/command.h"
#include "cli/common.h"
#include "io/output_target.h"
#include "io/safetensors.h"
#include "model/decoder.h"
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

// An optional (B, T) integer tensor `name` as int32; empty when absent.
Result<std::vector<int32_t>> read_optional_ints(const SafetensorsFile& f, const char* name, int64_t B, int64_t T) {
  const Tensor* t = f.find(name);
  if (!t) return std::vector<int32_t>{};
  if (t->dims() != std::vector<int64_t>{B, T} || (t->dtype != DType::I64 && t->dtype != DType::I32))
    return Status::errorf("{}: {} must be I64 or I32 of shape [{}, {}] like input_ids, found {} {}", f.path(), name, B,
                          T, dtype_name(t->dtype), t->shape_str());
  std::vector<int32_t> v(size_t(B * T));
  for (int64_t i = 0; i < B * T; ++i) {
    const int64_t x = t->dtype == DType::I64 ? t->i64()[i] : t->i32()[i];
    if (x < 0 || x > INT32_MAX) return Status::errorf("{}: {}[{}] = {} is negative or too large", f.path(), name, i, x);
    v[size_t(i)] = int32_t(x);
  }
  return v;
}

// Encoders with a task head: input_ids, attention_mask (right padding: each row 1…1 0…0) and
// token_type_ids → the head's logits (B, num_labels) or (B, T, num_labels).
Status run_encoder_logits(const LogitsArgs& a, const Model& model, const SafetensorsFile& in,
                          const std::vector<int32_t>& ids, int64_t B, int64_t T, Adapter* adapter) {
  if (model.head.empty())
    return Status::errorf(
        "{}: this {} checkpoint has no task head (config.json's architectures names no "
        "…ForSequenceClassification / …ForTokenClassification), so it has no logits",
        a.model, model.config.arch);
  PEFT_ASSIGN_OR_RETURN(std::vector<int32_t> mask, read_optional_ints(in, "attention_mask", B, T));
  PEFT_ASSIGN_OR_RETURN(std::vector<int32_t> types, read_optional_ints(in, "token_type_ids", B, T));
  std::vector<int32_t> lens(static_cast<size_t>(B), static_cast<int32_t>(T));
  if (!mask.empty())
    for (int64_t b = 0; b < B; ++b) {
      int64_t n = 0;
      while (n < T && mask[size_t(b * T + n)] == 1) ++n;
      for (int64_t t = n; t < T; ++t)
        if (mask[size_t(b * T + t)] != 0)
          return Status::errorf(
              "{}: attention_mask row {} is not right padding (1…1 then 0…0): position {} is {} after a 0", in.path(),
              b, t, mask[size_t(b * T + t)]);
      if (n == 0) return Status::errorf("{}: attention_mask row {} has no real token", in.path(), b);
      lens[size_t(b)] = int32_t(n);
    }
  // A model without a token-type table ignores them (DeBERTa-v3's tokenizer still marks the
  // second text with 1, and transformers' embeddings skip them when type_vocab_size is 0).
  if (model.config.n_token_types == 0) types.clear();
  for (size_t i = 0; i < types.size(); ++i)
    if (types[i] < 0 || types[i] >= model.config.n_token_types)
      return Status::errorf("{}: token_type_ids[{}] = {} but the model has {} token types", in.path(), i, types[i],
                            model.config.n_token_types);
  TokenInputs inputs;
  inputs.seq_lens = lens.data();
  if (!types.empty()) inputs.token_types = types.data();
  Decoder dec(model, B, T, adapter);
  dec.forward_task(ids.data(), nullptr, B, T, false, inputs);
  const int64_t Tt = dec.seq_len(), K = model.task.num_labels;
  const bool tokens = model.task.task == TaskType::TokenCls;
  OwnedTensor logits(DType::F32, tokens ? std::vector<int64_t>{B, Tt, K} : std::vector<int64_t>{B, K});
  std::copy(dec.task_logits(), dec.task_logits() + logits.numel(), logits.f32());
  return write_safetensors(a.output, {{"logits", logits.view()}}, {{"format", "pt"}});
}

Status run_logits(const LogitsArgs& a) {
  PEFT_TRY(check_output_file(a.output, a.overwrite));
  PEFT_ASSIGN_OR_RETURN(LoadOptions lo, load_options_from_flag(a.base_dtype, a.adapter));
  PEFT_ASSIGN_OR_RETURN(auto model, load_model(a.model, lo));
  PEFT_ASSIGN_OR_RETURN(SafetensorsFile in, SafetensorsFile::open(a.input));
  int64_t B = 0, T = 0;
  PEFT_ASSIGN_OR_RETURN(std::vector<int32_t> ids, read_input_ids(in, B, T));
  PEFT_TRY(check_token_ids(*model, ids.data(), B * T, a.input + ": input_ids"));
  if (T > model->config.n_ctx)
    return Status::errorf("{}: sequence length {} exceeds the model's context {}", a.input, T, model->config.n_ctx);
  PEFT_ASSIGN_OR_RETURN(std::unique_ptr<Adapter> adapter, load_cli_adapter(*model, a.adapter, a.adapter_scale));
  if (!model->config.causal) return run_encoder_logits(a, *model, in, ids, B, T, adapter.get());
  const int64_t V = model->config.n_vocab;
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
  sub->add_option("--input", args->input,
                  "safetensors file with input_ids [B, T] (I64 or I32); encoders also read attention_mask "
                  "(right padding) and token_type_ids when present")
      ->required();
  sub->add_option("--output", args->output,
                  "safetensors file to write logits to (new): [B, T, V]; an encoder's task head: "
                  "[B, num_labels] (sequence) or [B, T, num_labels] (token classification)")
      ->required();
  sub->add_flag("--overwrite", args->overwrite, "replace an existing output file");
  sub->add_option("--base-dtype", args->base_dtype,
                  "base weights: f32, bf16 (every matrix), or q8_0|q4_0|q4_k|nf4 (a float checkpoint's projections "
                  "quantized at load); default the checkpoint's own (a quantized GGUF stays quantized)");
  sub->callback([args, &action] { action = [args] { return run_logits(*args); }; });
}

}  // namespace peft::cli
