// Adapter: the interface every PEFT method implements (one folder per method under adapters/).
#pragma once
#include <memory>
#include <string>

#include "adapters/param_store.h"
#include "core/status.h"
#include "io/gguf.h"
#include "io/json_file.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "model/site.h"
#include "model/token_inputs.h"

namespace peft {

// Training turns dropout on; the seed makes every forward's dropout mask reproducible.
struct AdapterRunMode {
  bool training = false;
  uint64_t dropout_seed = 0;
  uint64_t routing_seed = 0;  // mixture methods (AdaMix): expert picks are a pure function of it
  // Which of the concurrent routed passes this is (consistency training runs pass 1 between
  // pass 0's forward and backward): adapters keeping activations keep one set per pass.
  int pass = 0;
};

class Decoder;  // model/decoder.h

// One micro-batch of a training step: ids and labels (B, T), per-token inputs.
struct StepBatch {
  const int32_t* ids;
  const int32_t* labels;
  int64_t B, T;
  TokenInputs inputs;
  // Models with a task head (encoders): the head's labels (Decoder::forward_task's layout),
  // used instead of `labels`.
  const float* task_labels = nullptr;
};
// What a training step reports: its loss, and terms the run logs beside it.
struct StepLoss {
  double loss = 0;
  std::vector<std::pair<std::string, double>> logged;  // e.g. {"consistency", KL}
};
// How a method trains one micro-batch: forward and backward, parameter gradients accumulated.
class TrainStep {
 public:
  virtual ~TrainStep() = default;
  // `pass` seeds everything random in this micro-batch's passes (dropout masks, routing).
  virtual StepLoss run(const StepBatch& batch, uint64_t pass) = 0;
};

// Options of `peft export --format F --adapter A`.
struct AdapterExportOptions {
  GgmlType type = GgmlType::F32;  // tensor storage of GGUF forms
  std::string base_model_path;    // recorded in the written adapter_config.json
  bool overwrite = false;         // --overwrite: a non-empty output folder / existing file may be replaced
};

class Adapter : public SiteHooks {
 public:
  ~Adapter() override = default;
  virtual std::string method() const = 0;  // registry name, e.g. "lora"
  // The adapter_config.json object (PEFT's field names; peft_type set).
  virtual Json config_json() const = 0;
  virtual ParamStore& params() = 0;
  virtual const ParamStore& params() const = 0;
  // Sizes the activations kept between forward and backward for up to max_tokens rows.
  virtual void reserve(int64_t max_tokens) = 0;
  // What adapter_model.safetensors holds: the parameters, unless the method saves a folded
  // form (prefix tuning's reparameterisation MLP is saved as its output, as PEFT does).
  virtual std::vector<NamedTensor> export_tensors() const {
    std::vector<NamedTensor> out;
    for (const Param& p : params().all()) out.push_back({p.name, p.value});
    return out;
  }
  // The task head's copies (after the method's parameters), which every form saves.
  std::vector<NamedTensor> head_tensors() const {
    std::vector<NamedTensor> out;
    for (size_t i = params().method_count(); i < params().count(); ++i)
      out.push_back({params()[i].name, params()[i].value});
    return out;
  }
  // Whether the folder also gets adapter_model.bin (PyTorch's checkpoint format, the same
  // tensors) for clients that read only that file: the LLM-Adapters fork of PEFT.
  virtual bool writes_torch_checkpoint() const { return false; }
  // Folds the adapter into the base weights (copies the matrices it touches). Methods
  // whose math does not allow it say so.
  virtual Status merge_into(Model& model) const {
    return Status::errorf("{} adapters cannot be merged into the base weights", method());
  }
  // merge_into, then the task head's trained copy replaces the model's head (what PEFT's
  // merge_and_unload leaves: the modules_to_save copy in place of the original). The one
  // entry point for merging.
  Status merge(Model& model) const;
  // Multiplies the adapter's effect, as llama.cpp's --lora-scaled does: methods with a
  // low-rank update (LoRA, AdaMix over LoRA) scale it; the others cannot and say so.
  virtual Status set_scale(double scale) {
    return Status::errorf("--adapter-scale applies to LoRA adapters; a {} adapter has no scale", method());
  }
  // The other forms `peft export --format F` can write this adapter in ("gguf-lora", ...),
  // and the writer.
  virtual std::vector<std::string> export_formats() const { return {}; }
  virtual Status export_as(const std::string& format, const Model& model, const AdapterExportOptions& options,
                           const std::string& out) const {
    return Status::errorf("a {} adapter cannot be exported as '{}'", method(), format);
  }
  // The modalities whose tokens the method tells apart (AdaLink: one module each); data
  // records' segments name them. Empty: the method treats every token alike.
  virtual std::vector<std::string> modalities() const { return {}; }
  // The training step over `dec` (the run's decoder, with this adapter as its hooks). The
  // default runs one forward and backward; a method may run more (AdaMix: two routed passes
  // and a consistency loss, on a second decoder of its own).
  virtual std::unique_ptr<TrainStep> make_train_step(Decoder& dec);
  // Decoders (of dec's size) the training step uses, for the memory preflight.
  virtual int train_step_decoders() const { return 1; }
  // Weight λ of a consistency loss between two routed passes (AdaMix); 0 = none.
  virtual double consistency_weight() const { return 0.0; }
  // Every method trains the task head's copy its parameter store holds (ParamStore::finalize).
  const HeadLayerParams* head_layer(int64_t i) const override { return params().head_layer(i); }
  void set_mode(const AdapterRunMode& mode) { mode_ = mode; }
  const AdapterRunMode& mode() const { return mode_; }

 protected:
  AdapterRunMode mode_;
};

}  // namespace peft
