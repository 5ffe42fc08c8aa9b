// peft export: a model as GGUF for llama.cpp, or an adapter in another client's format.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "adapters/adapter_io.h"
#include "adapters/registry.h"
#include "cli/command.h"
#include "cli/common.h"
#include "io/gguf.h"
#include "io/gguf_vocab.h"
#include "io/output_target.h"
#include "model/gguf_export.h"
#include "tokenizer/gguf_tokenizer.h"

namespace peft::cli {
namespace {

struct ExportArgs {
  std::string format;
  std::string model;
  std::string adapter;
  std::string out;
  std::string type;
  std::string name;
  bool overwrite = false;
};

// The tokenizer to embed: the folder's tokenizer.model / tokenizer.json, or the vocabulary
// of a .gguf input (re-export at another type).
Result<std::optional<GgufVocab>> vocab_of(const std::string& path, const std::string& arch) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return gguf_vocab_from_folder(path, arch);
  PEFT_ASSIGN_OR_RETURN(GgufFile file, GgufFile::open(path));
  return read_gguf_vocab(file);
}

Result<GgmlType> tensor_type(const ExportArgs& a) {
  auto type = ggml_type_from_flag(a.type.empty() ? "f32" : a.type);
  if (!type) return Status::errorf("--type: expected f32, f16, bf16, q8_0, q4_0 or q4_k, found '{}'", a.type);
  return *type;
}

}  // namespace

Status write_model_gguf(const Model& model, const std::string& model_path, const std::string& out,
                        const std::string& type_flag, const std::string& name,
                        std::vector<StorageError>* storage_errors) {
  auto type = ggml_type_from_flag(type_flag.empty() ? "f32" : type_flag);
  if (!type) return Status::errorf("--type: expected f32, f16, bf16, q8_0, q4_0 or q4_k, found '{}'", type_flag);
  PEFT_ASSIGN_OR_RETURN(std::optional<GgufVocab> vocab, vocab_of(model_path, model.config.arch));
  if (vocab) {
    // The model's config is the authority Hugging Face generation uses for BOS/EOS.
    const int64_t n = int64_t(vocab->tokens.size());
    if (vocab->bos_id < 0 && model.config.bos_id >= 0 && model.config.bos_id < n) vocab->bos_id = model.config.bos_id;
    if (vocab->eos_id < 0 && model.config.eos_id >= 0 && model.config.eos_id < n) vocab->eos_id = model.config.eos_id;
  } else {
    fmt::print(stderr,
               "warning: no tokenizer found for {}; the GGUF file will have no tokenizer.ggml.* data "
               "(llama.cpp needs one)\n",
               model_path);
  }
  GgufExportOptions opt;
  opt.type = *type;
  opt.name = name;
  opt.storage_errors = storage_errors;
  if (opt.name.empty()) {
    std::filesystem::path p(model_path);
    opt.name = (p.has_filename() ? p : p.parent_path()).stem().string();
  }
  return export_gguf(model, vocab ? &*vocab : nullptr, opt, out);
}

namespace {

// --format gguf: the model, with --adapter merged into its weights first.
Status export_model_gguf(const ExportArgs& a) {
  PEFT_TRY(tensor_type(a).status());
  PEFT_ASSIGN_OR_RETURN(auto model, load_model(a.model));
  if (!a.adapter.empty()) {
    PEFT_ASSIGN_OR_RETURN(auto adapter, load_cli_adapter(*model, a.adapter, std::nullopt));
    PEFT_TRY(adapter->merge(*model).with_context(a.adapter));
  }
  PEFT_TRY(write_model_gguf(*model, a.model, a.out, a.type, a.name, nullptr));
  fmt::print(stderr, "exported {}{} -> {} ({})\n", a.model, a.adapter.empty() ? "" : " with " + a.adapter + " merged",
             a.out, a.type.empty() ? "f32" : a.type);
  return Status::ok();
}

// Any other format: the adapter's own writer for it (Adapter::export_as).
Status export_adapter(const ExportArgs& a) {
  if (a.adapter.empty()) return Status::errorf("export --format {} needs --adapter", a.format);
  if (!a.name.empty()) return Status::errorf("--name applies to --format gguf (a model's general.name)");
  PEFT_ASSIGN_OR_RETURN(auto model, load_model(a.model));
  PEFT_ASSIGN_OR_RETURN(auto adapter, load_cli_adapter(*model, a.adapter, std::nullopt));
  const std::vector<std::string> formats = adapter->export_formats();
  if (std::find(formats.begin(), formats.end(), a.format) == formats.end())
    return Status::errorf("{}: a {} adapter {}", a.adapter, adapter->method(),
                          formats.empty() ? "has no other format to export to (its folder is what clients load)"
                                          : fmt::format("exports as --format {}", fmt::join(formats, " or ")));
  AdapterExportOptions opt;
  opt.base_model_path = a.model;
  opt.overwrite = a.overwrite;
  if (a.format.starts_with("gguf")) {
    PEFT_ASSIGN_OR_RETURN(opt.type, tensor_type(a));
  } else if (!a.type.empty()) {
    return Status::errorf("--type applies to GGUF formats, not --format {}", a.format);
  }
  PEFT_TRY(adapter->export_as(a.format, *model, opt, a.out));
  fmt::print(stderr, "exported {} ({}) as {} -> {}\n", a.adapter, adapter->method(), a.format, a.out);
  return Status::ok();
}

Status run_export(const ExportArgs& a) {
  // GGUF forms are one file, the others a folder.
  if (a.format.starts_with("gguf"))
    PEFT_TRY(check_output_file(a.out, a.overwrite));
  else
    PEFT_TRY(check_output_folder(a.out, a.overwrite));
  if (a.format == "gguf") return export_model_gguf(a);
  const std::vector<std::string> adapter_formats = all_export_formats();
  if (std::find(adapter_formats.begin(), adapter_formats.end(), a.format) != adapter_formats.end())
    return export_adapter(a);
  return Status::errorf("export: unknown --format '{}' (supported: gguf, {})", a.format,
                        fmt::join(adapter_formats, ", "));
}

}  // namespace

void add_export(CLI::App& app, Action& action) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* cmd = app.add_subcommand("export", "write a model or an adapter in another client's format");
  cmd->add_option("--format", args->format,
                  "gguf: the model for llama.cpp (with --adapter: merged into the weights first); gguf-lora: a LoRA "
                  "(or AdaMix-LoRA's averaged experts) as a llama.cpp GGUF adapter; peft-lora: AdaMix-LoRA's averaged "
                  "experts as a plain PEFT LoRA; bottleneck: AdaMix-bottleneck's as a plain LLM-Adapters adapter")
      ->required();
  cmd->add_option("--model", args->model, "base model folder (or .gguf file)")->required();
  cmd->add_option("--adapter", args->adapter, "adapter folder or GGUF adapter file");
  cmd->add_option("--out", args->out, "output file (GGUF) or folder, new or empty (written atomically)")->required();
  cmd->add_flag("--overwrite", args->overwrite,
                "replace an existing output (a folder keeps the files this command does not write)");
  cmd->add_option("--type", args->type, "GGUF tensor storage: f32 (default), f16, bf16, q8_0, q4_0 or q4_k");
  cmd->add_option("--name", args->name, "general.name of a GGUF model (default: the model folder's name)");
  cmd->callback([args, &action] { action = [args] { return run_export(*args); }; });
}

}  // namespace peft::cli
