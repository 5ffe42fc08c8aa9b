// peft export: write a model in another format (GGUF for llama.cpp today).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "adapters/adamix/adamix.h"
#include "adapters/adamix/adamix_bottleneck.h"
#include "adapters/adapter_io.h"

#include "cli/command.h"
#include "cli/common.h"
#include "io/gguf.h"
#include "io/gguf_vocab.h"
#include "model/gguf_export.h"
#include "tokenizer/gguf_tokenizer.h"

namespace peft::cli {
namespace {

struct ExportArgs {
  std::string format;
  std::string model;
  std::string adapter;
  std::string out;
  std::string type = "f32";
  std::string name;
};

// The tokenizer to embed: the folder's tokenizer.model / tokenizer.json, or the vocabulary
// of a .gguf input (re-export at another type).
Result<std::optional<GgufVocab>> vocab_of(const std::string& path, const std::string& arch) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return gguf_vocab_from_folder(path, arch);
  PEFT_ASSIGN_OR_RETURN(GgufFile file, GgufFile::open(path));
  return read_gguf_vocab(file);
}

// An AdaMix adapter as the plain adapter of its averaged experts (what it serves at
// inference): a PEFT LoRA for base lora (Hugging Face PEFT and llama.cpp's converters use it),
// an LLM-Adapters bottleneck adapter (AdapterP) for base bottleneck.
Status export_adamix_averaged(const ExportArgs& a) {
  if (a.adapter.empty()) return Status::errorf("export --format {} needs --adapter", a.format);
  PEFT_ASSIGN_OR_RETURN(auto model, load_model(a.model));
  PEFT_ASSIGN_OR_RETURN(auto adapter, load_adapter(*model, a.adapter));
  auto* mix_lora = dynamic_cast<AdamixAdapter*>(adapter.get());
  auto* mix_bottleneck = dynamic_cast<AdamixBottleneckAdapter*>(adapter.get());
  if (!mix_lora && !mix_bottleneck)
    return Status::errorf("{}: a {} adapter is already in its served form; --format {} converts AdaMix adapters",
                          a.adapter, adapter->method(), a.format);
  const std::string want = mix_lora ? "peft-lora" : "bottleneck";
  if (a.format != want)
    return Status::errorf("{}: an AdaMix adapter over base '{}' exports as --format {}", a.adapter,
                          mix_lora ? "lora" : "bottleneck", want);
  if (mix_lora) {
    PEFT_ASSIGN_OR_RETURN(auto lora, mix_lora->to_plain_lora());
    PEFT_TRY(save_adapter(*lora, a.out, a.model));
  } else {
    PEFT_ASSIGN_OR_RETURN(auto plain, mix_bottleneck->to_plain_bottleneck());
    PEFT_TRY(save_adapter(*plain, a.out, a.model));
  }
  fmt::print(stderr, "exported the averaged AdaMix experts of {} as a {} adapter -> {}\n", a.adapter,
             mix_lora ? "PEFT LoRA" : "bottleneck (LLM-Adapters)", a.out);
  return Status::ok();
}

Status run_export(const ExportArgs& a) {
  if (a.format == "peft-lora" || a.format == "bottleneck") return export_adamix_averaged(a);
  if (a.format != "gguf")
    return Status::errorf("export: unknown --format '{}' (supported: gguf, peft-lora, bottleneck)", a.format);
  auto type = ggml_type_from_flag(a.type);
  if (!type) return Status::errorf("--type: expected f32, f16, bf16 or q8_0, found '{}'", a.type);
  PEFT_ASSIGN_OR_RETURN(auto model, load_model(a.model));
  PEFT_ASSIGN_OR_RETURN(std::optional<GgufVocab> vocab, vocab_of(a.model, model->config.arch));
  if (vocab) {
    // The model's config is the authority Hugging Face generation uses for BOS/EOS.
    const int64_t n = int64_t(vocab->tokens.size());
    if (vocab->bos_id < 0 && model->config.bos_id >= 0 && model->config.bos_id < n) vocab->bos_id = model->config.bos_id;
    if (vocab->eos_id < 0 && model->config.eos_id >= 0 && model->config.eos_id < n) vocab->eos_id = model->config.eos_id;
  } else {
    fmt::print(stderr, "warning: no tokenizer found for {}; the GGUF file will have no tokenizer.ggml.* data "
                       "(llama.cpp needs one)\n", a.model);
  }
  GgufExportOptions opt;
  opt.type = *type;
  opt.name = a.name;
  if (opt.name.empty()) {
    std::filesystem::path p(a.model);
    opt.name = (p.has_filename() ? p : p.parent_path()).stem().string();
  }
  PEFT_TRY(export_gguf(*model, vocab ? &*vocab : nullptr, opt, a.out));
  fmt::print(stderr, "exported {} -> {} ({})\n", a.model, a.out, a.type);
  return Status::ok();
}

}  // namespace

void add_export(CLI::App& app, Action& action) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* cmd = app.add_subcommand("export", "write a model as a GGUF file for llama.cpp");
  cmd->add_option("--format", args->format, "gguf (a model for llama.cpp), peft-lora (an AdaMix-LoRA adapter as plain LoRA) or bottleneck "
                 "(an AdaMix bottleneck adapter as a plain bottleneck adapter)")->required();
  cmd->add_option("--model", args->model, "model folder (or .gguf file)")->required();
  cmd->add_option("--adapter", args->adapter, "adapter folder (for --format peft-lora / bottleneck)");
  cmd->add_option("--out", args->out, "output file or folder (written atomically)")->required();
  cmd->add_option("--type", args->type, "matrix storage: f32 (default), f16, bf16 or q8_0");
  cmd->add_option("--name", args->name, "general.name (default: the model folder's name)");
  cmd->callback([args, &action] { action = [args] { return run_export(*args); }; });
}

}  // namespace peft::cli
