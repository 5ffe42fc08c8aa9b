// LoRA adapters as llama.cpp's GGUF adapters (what its convert_lora_to_gguf.py writes), both ways.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/targets.h"
#include "io/gguf.h"
#include "model/model.h"
#include "model/site.h"

namespace peft {

// One adapted projection: A (r, in) and B (out, r), row-major F32, Hugging Face row order.
struct LoraPair {
  SiteRef ref;
  const float* a;
  const float* b;
  int64_t in, out;
};

// general.type = adapter, general.architecture = the base's, adapter.type = lora,
// adapter.lora.alpha = scaling · r (llama.cpp scales by alpha / r, so α/√r of rsLoRA comes
// out the same); tensors "<base tensor>.lora_a" (ne [in, r]) / ".lora_b" (ne [r, out]), B's
// rows reordered as the converter reorders the base weight's. Matrices in `type` (Q8_0 falls
// back to F16 for rows that are not a multiple of 32).
Status write_lora_gguf(const Model& model, const std::vector<LoraPair>& pairs, int64_t r, double scaling, GgmlType type,
                       const std::string& path);

// A LoRA GGUF (ours or llama.cpp's converter's) for `model`: the architecture must be the
// base's, every tensor a .lora_a/.lora_b pair on a projection of the model with its shapes,
// one rank throughout. alpha = 0 means scaling 1, as in llama.cpp.
Result<std::unique_ptr<Adapter>> load_lora_gguf(const Model& model, const GgufFile& file);

}  // namespace peft
