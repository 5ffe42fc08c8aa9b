// Writing a model back out as a Hugging Face folder (after merging adapters, say).
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace peft {

// Every tensor the model binds, under its Hugging Face name, in the checkpoint's layout
// (GPT-2's Conv1D matrices transposed back to (in, out)). Tied heads are not repeated.
struct HfTensor {
  std::string name;
  Tensor tensor;      // the bound view
  bool transposed;    // write as tensorᵀ
  float minus = 0.f;  // write tensor − minus (norm weights of ModelConfig::norm_weight_offset)
};
std::vector<HfTensor> hf_tensors(const Model& model);

// config.json + model.safetensors (+ the tokenizer files found in `tokenizer_dir`), built in
// a temporary sibling folder and renamed into place.
Status save_hf_folder(const Model& model, const std::string& dir, const std::string& tokenizer_dir,
                      bool overwrite = false);

}  // namespace peft
