// TensorSource: named, read-only tensors of a checkpoint, whatever the file format.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace peft {

// A checkpoint's tensors under Hugging Face names. Safetensors folders, GGUF files and
// converted checkpoints all present themselves this way, so weight binding is written once.
class TensorSource {
 public:
  virtual ~TensorSource() = default;
  virtual const Tensor* find(const std::string& name) const = 0;
  // The file holding `name` (for error messages); empty if unknown.
  virtual std::string file_of(const std::string& name) const = 0;
  virtual std::vector<std::string> names() const = 0;  // sorted
};

}  // namespace peft
