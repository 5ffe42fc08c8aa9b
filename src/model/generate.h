// Autoregressive generation on one sequence with a KV cache.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "model/sampler.h"
#include "model/site.h"

namespace peft {

struct GenerateOptions {
  int64_t max_new_tokens = 64;
  SamplingOptions sampling;
  bool stop_at_eos = true;  // stop after the model's eos token
  SiteHooks* hooks = nullptr;  // an adapter, or null
};

// Continues `prompt` (token ids, BOS included if wanted) and returns the new ids. Calls
// on_token(id) after each one (for streaming). Stops at max_new_tokens, at EOS, or when the
// model's context is full. Errors on an empty prompt, a prompt longer than the context, or
// ids outside the vocabulary.
Result<std::vector<int32_t>> generate(const Model& model, const std::vector<int32_t>& prompt,
                                      const GenerateOptions& options,
                                      const std::function<void(int32_t)>& on_token = {});

// Checks every id lies in [0, vocab); `what` names the source for the error.
Status check_token_ids(const Model& model, const int32_t* ids, int64_t n, const std::string& what);

}  // namespace peft
