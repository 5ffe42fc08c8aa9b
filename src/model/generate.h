// Autoregressive generation with a KV cache: one sequence, or a batch of left-padded ones.
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
  bool stop_at_eos = true;        // stop after the model's eos token
  std::vector<int32_t> stop_ids;  // more ids that end a row (a chat template's end of turn), when stop_at_eos
  SiteHooks* hooks = nullptr;     // an adapter, or null
};

// Continues `prompt` (token ids, BOS included if wanted) and returns the new ids. Calls
// on_token(id) after each one (for streaming). Stops at max_new_tokens, at EOS, or when the
// model's context is full. Errors on an empty prompt, a prompt longer than the context, or
// ids outside the vocabulary.
Result<std::vector<int32_t>> generate(const Model& model, const std::vector<int32_t>& prompt,
                                      const GenerateOptions& options,
                                      const std::function<void(int32_t)>& on_token = {});

// Continues several prompts together and returns each one's new ids, in prompt order. Rows
// are left-padded to the longest prompt and share one KV cache (InferenceRunner's left
// padding), so each row gets exactly what generate() gives it alone — one sampler per row,
// seeded alike. Each row stops on its own (EOS, max_new_tokens, a full context); finished
// rows leave the batch, so they cost no more compute. on_token(row, id) after each token.
// Errors as generate() for any prompt.
Result<std::vector<std::vector<int32_t>>> generate_batch(const Model& model,
                                                         const std::vector<std::vector<int32_t>>& prompts,
                                                         const GenerateOptions& options,
                                                         const std::function<void(size_t, int32_t)>& on_token = {});

// Whether a row stops after emitting `id`, its n-th new token, with a prompt of
// `prompt_len`: an end token (with stop_at_eos), max_new_tokens reached, or a full context
// (prompt + fed-back tokens reach n_ctx). The rule generate_batch and the server share.
bool generation_done(const ModelConfig& c, const GenerateOptions& options, int64_t prompt_len, int32_t id, int64_t n);

// Checks every id lies in [0, vocab); `what` names the source for the error.
Status check_token_ids(const Model& model, const int32_t* ids, int64_t n, const std::string& what);

}  // namespace peft
