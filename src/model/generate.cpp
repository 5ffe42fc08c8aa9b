// Greedy/sampled generation: prompts in one forward, then one token per step for the rows
// still running.
#include "model/generate.h"

#include <algorithm>

#include "model/inference.h"

namespace peft {

Status check_token_ids(const Model& model, const int32_t* ids, int64_t n, const std::string& what) {
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= model.config.n_vocab)
      return Status::errorf("{}: token id {} at position {} is outside the vocabulary [0, {})", what, ids[i], i,
                            model.config.n_vocab);
  return Status::ok();
}

bool generation_done(const ModelConfig& c, const GenerateOptions& opt, int64_t prompt_len, int32_t id, int64_t n) {
  // The context is full once prompt + fed-back tokens (all but this one) reach n_ctx.
  const bool stop = id == c.eos_id || std::find(opt.stop_ids.begin(), opt.stop_ids.end(), id) != opt.stop_ids.end();
  return (opt.stop_at_eos && stop) || n >= opt.max_new_tokens || prompt_len + n - 1 >= c.n_ctx;
}

Result<std::vector<std::vector<int32_t>>> generate_batch(const Model& model,
                                                         const std::vector<std::vector<int32_t>>& prompts,
                                                         const GenerateOptions& opt,
                                                         const std::function<void(size_t, int32_t)>& on_token) {
  const ModelConfig& c = model.config;
  const int64_t B = int64_t(prompts.size()), V = c.n_vocab;
  int64_t P_max = 0, P_min = c.n_ctx;
  for (const auto& p : prompts) {
    const int64_t P = int64_t(p.size());
    if (P == 0) return Status::error("generate: the prompt is empty (no tokens)");
    if (P > c.n_ctx)
      return Status::errorf("generate: the prompt has {} tokens but the model's context is {}", P, c.n_ctx);
    PEFT_TRY(check_token_ids(model, p.data(), P, "prompt"));
    P_max = std::max(P_max, P);
    P_min = std::min(P_min, P);
  }
  std::vector<std::vector<int32_t>> out(prompts.size());
  if (B == 0 || opt.max_new_tokens <= 0) return out;
  // Row b fills pad_b + P_b = P_max positions, then feeds back fewer than max_new_tokens and at
  // most n_ctx − P_b tokens.
  InferenceRunner runner(model, B, P_max, P_max + std::min(opt.max_new_tokens, c.n_ctx - P_min), opt.hooks);
  std::vector<int32_t> ids(size_t(B * P_max), 0);  // (B, P_max): pads (id 0, masked) then the prompt
  std::vector<int32_t> pad(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompts[size_t(b)];
    pad[size_t(b)] = int32_t(P_max - int64_t(p.size()));
    std::copy(p.begin(), p.end(), ids.begin() + b * P_max + pad[size_t(b)]);
  }
  if (std::any_of(pad.begin(), pad.end(), [](int32_t x) { return x > 0; })) runner.set_left_padding(pad);
  std::vector<Sampler> samplers(static_cast<size_t>(B), Sampler(opt.sampling));
  std::vector<float> logits(size_t(B * V));  // (B, V) each running row's next-token logits
  runner.forward(ids.data(), P_max, logits.data(), false);

  std::vector<int64_t> active(static_cast<size_t>(B));  // batch row → prompt index
  for (int64_t b = 0; b < B; ++b) active[size_t(b)] = b;
  std::vector<int64_t> keep;
  std::vector<int32_t> next;
  while (!active.empty()) {
    keep.clear();
    next.clear();
    for (size_t a = 0; a < active.size(); ++a) {
      const size_t r = size_t(active[a]);
      const int32_t id = samplers[r].sample(logits.data() + int64_t(a) * V, V);
      out[r].push_back(id);
      if (on_token) on_token(r, id);
      if (generation_done(c, opt, int64_t(prompts[r].size()), id, int64_t(out[r].size()))) continue;
      keep.push_back(int64_t(a));
      next.push_back(id);
    }
    if (keep.empty()) break;
    if (keep.size() < active.size()) {  // drop finished rows (copies their cache rows away)
      runner.select_rows(keep);
      for (size_t a = 0; a < keep.size(); ++a) active[a] = active[size_t(keep[a])];
      active.resize(keep.size());
    }
    runner.forward(next.data(), 1, logits.data(), false);
  }
  return out;
}

Result<std::vector<int32_t>> generate(const Model& model, const std::vector<int32_t>& prompt,
                                      const GenerateOptions& opt, const std::function<void(int32_t)>& on_token) {
  std::function<void(size_t, int32_t)> each;
  if (on_token) each = [&](size_t, int32_t id) { on_token(id); };
  PEFT_ASSIGN_OR_RETURN(auto out, generate_batch(model, {prompt}, opt, each));
  return std::move(out[0]);
}

}  // namespace peft
