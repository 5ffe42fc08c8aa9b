// Adapters on disk: adapter_config.json + adapter_model.safetensors, as Hugging Face PEFT writes them.
#pragma once
#include <memory>
#include <string>

#include "adapters/adapter.h"

namespace peft {

// Writes `dir` atomically (built in a temporary sibling, then renamed).
Status save_adapter(const Adapter& adapter, const std::string& dir, const std::string& base_model_path,
                    bool overwrite = false);

// Which tensors the weights files hold: what clients load (Adapter::export_tensors, e.g.
// prefix tuning's folded table), or the trainable parameters themselves (checkpoints).
enum class AdapterTensors { Export, Params };

// The one writer of an adapter's files — adapter_config.json, adapter_model.safetensors and,
// for methods whose client reads only that, adapter_model.bin — into the existing folder
// `dir`, staged and then renamed together (io/atomic_output.h StagedFiles).
Status write_adapter_files(const Adapter& adapter, const std::string& dir, const std::string& base_model_path,
                           AdapterTensors which = AdapterTensors::Export);

// Reads a PEFT-style adapter folder for `model`: the config picks the method (peft_type),
// every tensor must be present with the shape the model implies, and no unknown tensor
// may be left over (that would be an adapter for another model).
Result<std::unique_ptr<Adapter>> load_adapter(const Model& model, const std::string& dir);

// The task head a SEQ_CLS / TOKEN_CLS adapter folder was trained with, for loading its base
// (LoadOptions::head): the classifier's label count from its saved weights (one output:
// regression, as transformers infers), the modules_to_save beyond the classifier. Other
// adapters (and GGUF files) leave `head` as it is.
Status adapter_head_options(const std::string& dir, LoadOptions::HeadOptions& head);

}  // namespace peft
