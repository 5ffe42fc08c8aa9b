// Prompt texts → generated continuations: the one generation path every generation-scored
// evaluation (LLM-Adapters math/commonsense, GLUE verbalisers, E2E) goes through.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "eval/beam_search.h"
#include "eval/evaluator.h"

namespace peft {

struct ContinuationOptions {
  int64_t max_new_tokens = 32;
  int64_t num_beams = 1;   // 1 = greedy
  int64_t batch_size = 1;  // prompts decoded together (greedy only)
  BeamOptions beam;        // length penalty, no-repeat n-grams (num_beams > 1)
};

struct Continuation {
  std::vector<int32_t> ids;  // new tokens, EOS excluded
  std::string text;          // decoded (special tokens skipped), nothing cut or stripped
  bool hit_limit = false;    // stopped by max_new_tokens or the context, not by EOS
  bool truncated = false;    // the prompt was cut on the left to leave room for max_new_tokens
};

// Continues every prompt (encoded with the tokenizer's default special tokens). A prompt
// longer than the context minus max_new_tokens keeps its BOS and its last tokens. Results
// come back in prompt order; `on_done(i)` (optional) is called as each one finishes.
Result<std::vector<Continuation>> generate_continuations(const std::vector<std::string>& prompts, const EvalModel& m,
                                                         const ContinuationOptions& options,
                                                         const std::function<void(size_t)>& on_done = {});

}  // namespace peft
