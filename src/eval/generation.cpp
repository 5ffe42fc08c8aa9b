// Prompt texts → continuations: left truncation, then beam search one prompt at a time or
// greedy decoding in batches of similar-length prompts.
#include "eval/generation.h"

#include <fmt/format.h>

#include "core/memory.h"
#include "core/threads.h"

#include <algorithm>
#include <numeric>

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

// Fills r from generated ids (EOS, if it ended the row, dropped).
void finish(Continuation& r, std::vector<int32_t> ids, bool ended_with_eos, const Tokenizer& tok) {
  r.ids = std::move(ids);
  r.hit_limit = !ended_with_eos;
  r.text = tok.decode(r.ids);
}
}  // namespace

Result<std::vector<Continuation>> generate_continuations(const std::vector<std::string>& prompts, const EvalModel& m,
                                                         const ContinuationOptions& options,
                                                         const std::function<void(size_t)>& on_done) {
  const ModelConfig& c = m.model->config;
  if (options.max_new_tokens < 1) return Status::errorf("--max-new-tokens must be at least 1");
  if (options.num_beams < 1) return Status::errorf("--num-beams must be at least 1");
  if (options.batch_size < 1) return Status::errorf("--batch-size must be at least 1");
  if (options.num_beams > c.n_vocab)
    return Status::errorf("--num-beams {} exceeds the vocabulary ({} tokens): a beam past it is never filled",
                          options.num_beams, c.n_vocab);
  // The rows decoded together hold a KV cache and a row of logits each: check before allocating.
  {
    const int64_t rows =
        options.num_beams > 1 ? options.num_beams : std::min<int64_t>(options.batch_size, int64_t(prompts.size()));
    const int64_t per_row = checked_mul(c.n_ctx, 2 * c.n_layer * c.kv_dim() + 4 * c.n_embd) + 2 * c.n_vocab;
    PEFT_TRY(check_memory(checked_mul(checked_mul(rows, per_row), int64_t(sizeof(float))),
                          fmt::format("decoding {} row{} at once ({})", rows, rows == 1 ? "" : "s",
                                      options.num_beams > 1 ? "--num-beams" : "--batch-size")));
  }
  const int64_t keep = std::max<int64_t>(c.n_ctx - options.max_new_tokens, std::min<int64_t>(c.n_ctx, 2));
  std::vector<Continuation> out(prompts.size());
  std::vector<std::vector<int32_t>> ids(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    ids[i] = m.chat ? encode_rendered(*m.tok, prompts[i]) : m.tok->encode(prompts[i], true);
    // The first token is kept when it is BOS (the tokenizer's or the chat template's).
    out[i].truncated = truncate_left(ids[i], keep, !ids[i].empty() && ids[i][0] == m.tok->bos_id());
  }
  if (options.num_beams > 1) {
    for (size_t i = 0; i < prompts.size(); ++i) {
      PEFT_ASSIGN_OR_RETURN(BeamResult br,
                            beam_search(*m.model, m.hooks, ids[i], options.num_beams, options.max_new_tokens,
                                        m.chat ? m.chat->end_ids : std::vector<int32_t>{}, options.beam));
      finish(out[i], std::move(br.tokens), br.ended_with_eos, *m.tok);
      if (on_done) on_done(i);
    }
    return out;
  }
  // Greedy: prompts sorted by length, so a batch's rows need little left padding; batched
  // rows give exactly the tokens each prompt gets alone (generate_batch).
  std::vector<size_t> order(prompts.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a].size() < ids[b].size(); });
  GenerateOptions opt;
  opt.max_new_tokens = options.max_new_tokens;
  opt.hooks = m.hooks;
  if (m.chat) opt.stop_ids = m.chat->end_ids;
  for (size_t start = 0; start < order.size(); start += size_t(options.batch_size)) {
    const size_t end = std::min(order.size(), start + size_t(options.batch_size));
    std::vector<std::vector<int32_t>> batch;
    for (size_t k = start; k < end; ++k) batch.push_back(std::move(ids[order[k]]));
    adapt_threads();
    PEFT_ASSIGN_OR_RETURN(auto gens, generate_batch(*m.model, batch, opt));
    for (size_t k = start; k < end; ++k) {
      auto& g = gens[k - start];
      const bool eos = !g.empty() && (g.back() == c.eos_id || std::find(opt.stop_ids.begin(), opt.stop_ids.end(),
                                                                        g.back()) != opt.stop_ids.end());
      if (eos) g.pop_back();
      finish(out[order[k]], std::move(g), eos, *m.tok);
      if (on_done) on_done(order[k]);
    }
  }
  return out;
}

}  // namespace peft
