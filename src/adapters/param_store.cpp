// ParamStore: two flat blocks carved into named tensors.
#include "adapters/param_store.h"

#include <algorithm>

#include "core/check.h"

namespace peft {

size_t ParamStore::add(const std::string& name, const std::vector<int64_t>& dims) {
  PEFT_CHECK(!finalized(), "ParamStore::add('{}') after finalize()", name);
  pending_.push_back({name, dims});
  return pending_.size() - 1;
}

void ParamStore::finalize() {
  PEFT_CHECK(!finalized(), "ParamStore finalized twice");
  total_ = 0;
  for (const Pending& p : pending_) total_ += Tensor(nullptr, DType::F32, p.dims).numel();
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
  }
  pending_.clear();
}

const Param* ParamStore::find(const std::string& name) const {
  for (const Param& p : params_)
    if (p.name == name) return &p;
  return nullptr;
}

void ParamStore::zero_grads() { std::fill(grads_.begin(), grads_.end(), 0.f); }

}  // namespace peft
