// Greedy/sampled generation: prompt in one forward, then one token per step.
#include "model/generate.h"

#include <algorithm>

#include "model/inference.h"

namespace peft {

Status check_token_ids(const Model& model, const int32_t* ids, int64_t n, const std::string& what) {
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= model.config.n_vocab)
      return Status::errorf("{}: token id {} at position {} is outside the vocabulary [0, {})",
                            what, ids[i], i, model.config.n_vocab);
  return Status::ok();
}

Result<std::vector<int32_t>> generate(const Model& model, const std::vector<int32_t>& prompt,
                                      const GenerateOptions& opt,
                                      const std::function<void(int32_t)>& on_token) {
  const ModelConfig& c = model.config;
  const int64_t P = int64_t(prompt.size());
  if (P == 0) return Status::error("generate: the prompt is empty (no tokens)");
  if (P > c.n_ctx)
    return Status::errorf("generate: the prompt has {} tokens but the model's context is {}", P, c.n_ctx);
  PEFT_TRY(check_token_ids(model, prompt.data(), P, "prompt"));
  const int64_t capacity = std::min(c.n_ctx, P + std::max<int64_t>(opt.max_new_tokens, 0));
  InferenceRunner runner(model, 1, P, capacity, opt.hooks);
  Sampler sampler(opt.sampling);
  std::vector<float> logits(size_t(c.n_vocab));
  std::vector<int32_t> out;
  runner.forward(prompt.data(), P, logits.data(), false);
  while (int64_t(out.size()) < opt.max_new_tokens) {
    int32_t next = sampler.sample(logits.data(), c.n_vocab);
    out.push_back(next);
    if (on_token) on_token(next);
    if (opt.stop_at_eos && next == c.eos_id) break;
    if (runner.cache().length() >= runner.cache().capacity()) break;  // context full
    runner.forward(&next, 1, logits.data(), false);
  }
  return out;
}

}  // namespace peft
