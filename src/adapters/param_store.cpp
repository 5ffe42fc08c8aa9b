// ParamStore: two flat blocks carved into named tensors.
#include "adapters/param_store.h"

#include <limits>

#include <fmt/format.h>

#include "core/memory.h"

#include <algorithm>

#include "core/check.h"

namespace peft {

size_t ParamStore::add(const std::string& name, const std::vector<int64_t>& dims) {
  PEFT_CHECK(!finalized(), "ParamStore::add('{}') after finalize()", name);
  pending_.push_back({name, dims});
  return pending_.size() - 1;
}

int64_t adapter_param_limit(const Model& model) {
  return std::max<int64_t>(16 * model_param_count(model), int64_t(16) << 20);
}

Status ParamStore::finalize(const Model& model, const std::string& head_key_prefix) {
  PEFT_CHECK(!finalized(), "ParamStore finalized twice");
  method_count_ = pending_.size();
  // The task head's trainable layers (PEFT's modules_to_save), after the method's own.
  std::vector<std::pair<size_t, size_t>> head_index(model.head.size(), {SIZE_MAX, SIZE_MAX});
  for (size_t i = 0; i < model.head.size(); ++i) {
    const HeadLayerSpec& spec = model.head[i].spec;
    if (!spec.trainable) continue;
    const std::string entry = modules_to_save_entry(spec.module);
    if (!is_default_module_to_save(entry) &&
        std::find(extra_modules_.begin(), extra_modules_.end(), entry) == extra_modules_.end())
      extra_modules_.push_back(entry);
    head_index[i] = {add(head_key_prefix + spec.module + ".weight", {spec.out, spec.in}),
                     add(head_key_prefix + spec.module + ".bias", {spec.out})};
  }
  total_ = 0;
  for (const Pending& p : pending_) {
    int64_t n = 1;
    for (int64_t d : p.dims) n = checked_mul(n, d);
    if (n < 0 || total_ > std::numeric_limits<int64_t>::max() / 64 - n)
      return Status::errorf("adapter parameter '{}': its size overflows", p.name);
    total_ += n;
  }
  if (total_ > adapter_param_limit(model))
    return Status::errorf(
        "the adapter would have {} parameters, more than 16 times the model's {}: is a size (r, "
        "bottleneck_size, num_virtual_tokens, ...) mistyped?",
        total_, model_param_count(model));
  // values + gradients now, AdamW's two moments when training.
  PEFT_TRY(check_memory(checked_mul(total_, 4 * int64_t(sizeof(float))),
                        fmt::format("the adapter's {} parameters (values, gradients, optimizer state)", total_)));
  values_.assign(size_t(std::max<int64_t>(total_, 1)), 0.f);
  grads_.assign(values_.size(), 0.f);
  int64_t offset = 0;
  for (const Pending& p : pending_) {
    Param param;
    param.name = p.name;
    param.value = Tensor(values_.data() + offset, DType::F32, p.dims);
    param.grad = Tensor(grads_.data() + offset, DType::F32, p.dims);
    offset += param.value.numel();
    params_.push_back(std::move(param));
    if (params_.size() == method_count_) method_numel_ = offset;
  }
  if (method_count_ == 0) method_numel_ = 0;
  pending_.clear();
  head_.assign(model.head.size(), HeadLayerParams{});
  head_task_ = model.task.task;
  for (size_t i = 0; i < model.head.size(); ++i) {
    if (head_index[i].first == SIZE_MAX) continue;
    Param& w = params_[head_index[i].first];
    Param& b = params_[head_index[i].second];
    const Linear& base = model.head[i].lin;  // F32 (bound with force_f32)
    std::copy(base.w.f32(), base.w.f32() + w.value.numel(), w.value.f32());
    if (base.has_bias()) std::copy(base.b.f32(), base.b.f32() + b.value.numel(), b.value.f32());
    head_[i] = {w.value.f32(), b.value.f32(), w.grad.f32(), b.grad.f32()};
  }
  return Status::ok();
}

const Param* ParamStore::find(const std::string& name) const {
  for (const Param& p : params_)
    if (p.name == name) return &p;
  return nullptr;
}

void ParamStore::zero_grads() { std::fill(grads_.begin(), grads_.end(), 0.f); }

}  // namespace peft
