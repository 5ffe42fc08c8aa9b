// ParamStore: an adapter's trainable tensors in one contiguous block, their gradients in another.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "model/model.h"
#include "model/site.h"

namespace peft {

// The most parameters an adapter of `model` may have: 16 times the model's own (at least
// 16M). Past that a size is a mistake (r = 97526 on a width of 64), not an experiment, and
// initialising it would take minutes.
int64_t adapter_param_limit(const Model& model);

// Where prompt-learning methods' PEFT files keep a task head's copy (ParamStore::finalize).
inline constexpr const char* kPromptLearningHeadPrefix = "base_model.";

struct Param {
  std::string name;  // on-disk key (PEFT's naming)
  Tensor value;      // view into the value block
  Tensor grad;       // same shape, view into the gradient block
};

// Declare every parameter with add(), then finalize() allocates both blocks at once, so
// zero-grad, clipping, the optimizer and checkpoints are one loop over a flat array each.
class ParamStore {
 public:
  size_t add(const std::string& name, const std::vector<int64_t>& dims);
  // Allocates the blocks. When `model` has a task head (an encoder's classifier), its
  // trainable layers come last, as PEFT's modules_to_save has them: a trainable copy of each,
  // named head_key_prefix + "<module>.weight" / ".bias" and initialised from the model's.
  // PEFT's keys: "base_model.model." where the method wraps the model in a tuner (LoRA, IA3,
  // ...), "base_model." for prompt learning (prefix, prompt tuning), whose PeftModel holds the
  // transformers model itself.
  // Methods own the first method_count() parameters (method_numel() floats).
  // Allocates the blocks; an error (no allocation) when the sizes overflow, exceed the
  // memory this machine has for values, gradients and the optimizer's two moments, or make
  // an adapter absurdly larger than the model it adapts (adapter_param_limit(model)).
  Status finalize(const Model& model, const std::string& head_key_prefix = "base_model.model.");
  bool finalized() const { return !values_.empty(); }

  size_t count() const { return params_.size(); }
  Param& operator[](size_t i) { return params_[i]; }
  const Param& operator[](size_t i) const { return params_[i]; }
  std::vector<Param>& all() { return params_; }
  const std::vector<Param>& all() const { return params_; }
  const Param* find(const std::string& name) const;
  size_t method_count() const { return method_count_; }
  int64_t method_numel() const { return method_numel_; }
  // The copy of task-head layer i (Model::head[i]), or null for a layer the base keeps frozen.
  const HeadLayerParams* head_layer(int64_t i) const {
    return size_t(i) < head_.size() && head_[size_t(i)].w ? &head_[size_t(i)] : nullptr;
  }
  bool has_head() const { return !head_.empty(); }
  TaskType head_task() const { return head_task_; }
  // modules_to_save entries of the trained head layers beyond PEFT's default ("classifier"):
  // a pooler the checkpoint lacked ("pooler").
  const std::vector<std::string>& extra_modules_to_save() const { return extra_modules_; }

  // The flat blocks: numel() floats each.
  float* values() { return values_.data(); }
  const float* values() const { return values_.data(); }
  float* grads() { return grads_.data(); }
  const float* grads() const { return grads_.data(); }
  int64_t numel() const { return total_; }
  void zero_grads();

 private:
  struct Pending {
    std::string name;
    std::vector<int64_t> dims;
  };
  std::vector<Pending> pending_;
  std::vector<Param> params_;
  std::vector<float> values_, grads_;
  int64_t total_ = 0;
  size_t method_count_ = 0;
  int64_t method_numel_ = 0;
  std::vector<HeadLayerParams> head_;  // per Model::head layer; w == null: frozen
  TaskType head_task_ = TaskType::CausalLm;
  std::vector<std::string> extra_modules_;
};

}  // namespace peft
