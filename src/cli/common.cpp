// Shared CLI helpers.
#include "cli/common.h"

#include "adapters/adapter_io.h"

namespace peft::cli {

Result<LoadOptions> load_options_from_flag(const std::string& base_dtype) {
  LoadOptions o;
  if (base_dtype.empty()) return o;
  if (base_dtype == "f32") o.base_dtype = DType::F32;
  else if (base_dtype == "bf16") o.base_dtype = DType::BF16;
  else return Status::errorf("--base-dtype: expected f32 or bf16, found '{}'", base_dtype);
  return o;
}

Result<std::unique_ptr<Tokenizer>> load_matching_tokenizer(const Model& model,
                                                           const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(auto tok, load_tokenizer(path));
  if (tok->vocab_size() > model.config.n_vocab)
    return Status::errorf("{}: tokenizer has {} tokens but the model's vocab_size is {}", path,
                          tok->vocab_size(), model.config.n_vocab);
  return tok;
}

Status refuse_given(const CLI::App& cmd, std::initializer_list<const char*> flags, const std::string& why) {
  for (const char* f : flags)
    if (cmd.count(f) > 0) return Status::errorf("{} {}", f, why);
  return Status::ok();
}

Result<std::unique_ptr<Adapter>> load_cli_adapter(const Model& model, const std::string& path,
                                                  const std::optional<double>& scale) {
  if (path.empty()) {
    if (scale) return Status::error("--adapter-scale needs --adapter");
    return std::unique_ptr<Adapter>();
  }
  PEFT_ASSIGN_OR_RETURN(auto adapter, load_adapter(model, path));
  if (scale) PEFT_TRY(adapter->set_scale(*scale).with_context(path));
  return adapter;
}

}  // namespace peft::cli
