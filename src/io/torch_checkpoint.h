// PyTorch checkpoints as torch.save writes them (the zip format of torch ≥ 1.6): a dict of
// named tensors, for clients that read only `.bin` files (the LLM-Adapters fork of PEFT).
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "io/safetensors.h"

namespace peft {

// Writes `tensors` (F32, F16, BF16, I64 or I32; contiguous) as the state dict
// {name: tensor} to `path` atomically. torch.load (weights_only too) reads it back with
// the same names, shapes, dtypes and bytes. Layout in docs/formats.md.
Status write_torch_checkpoint(const std::string& path, const std::vector<NamedTensor>& tensors);

}  // namespace peft
