// Prompt texts → continuations: left truncation, greedy or beam search, one prompt at a time.
#include "eval/generation.h"

#include <algorithm>

#include "eval/beam_search.h"
#include "model/generate.h"

namespace peft {

namespace {
// Keeps BOS (if the tokenizer adds one) and the last tokens so that `keep` remain.
bool truncate_left(std::vector<int32_t>& ids, int64_t keep, bool has_bos) {
  if (int64_t(ids.size()) <= keep) return false;
  const int64_t head = has_bos ? 1 : 0;
  const int64_t drop = int64_t(ids.size()) - keep;
  ids.erase(ids.begin() + head, ids.begin() + head + drop);
  return true;
}
}  // namespace

Result<std::vector<Continuation>> generate_continuations(const std::vector<std::string>& prompts,
                                                         const EvalModel& m, const ContinuationOptions& options,
                                                         const std::function<void(size_t)>& on_done) {
  const ModelConfig& c = m.model->config;
  if (options.max_new_tokens < 1) return Status::errorf("--max-new-tokens must be at least 1");
  if (options.num_beams < 1) return Status::errorf("--num-beams must be at least 1");
  GenerateOptions opt;
  opt.max_new_tokens = options.max_new_tokens;
  opt.hooks = m.hooks;
  const int64_t keep = std::max<int64_t>(c.n_ctx - options.max_new_tokens, std::min<int64_t>(c.n_ctx, 2));
  std::vector<Continuation> out(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    Continuation& r = out[i];
    std::vector<int32_t> ids = m.tok->encode(prompts[i], true);
    r.truncated = truncate_left(ids, keep, m.tok->add_bos_default());
    bool stopped = false;
    if (options.num_beams > 1) {
      PEFT_ASSIGN_OR_RETURN(BeamResult br,
                            beam_search(*m.model, m.hooks, ids, options.num_beams, options.max_new_tokens));
      r.ids = std::move(br.tokens);
      stopped = br.ended_with_eos;
    } else {
      PEFT_ASSIGN_OR_RETURN(r.ids, generate(*m.model, ids, opt));
      stopped = !r.ids.empty() && r.ids.back() == c.eos_id;
      if (stopped) r.ids.pop_back();
    }
    r.hit_limit = !stopped;
    r.text = m.tok->decode(r.ids);
    if (on_done) on_done(i);
  }
  return out;
}

}  // namespace peft
