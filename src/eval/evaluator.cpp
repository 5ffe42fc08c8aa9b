// Generation, likelihood and rescoring evaluation loops with their tallies.
#include "eval/evaluator.h"

#include <algorithm>
#include <cstdio>

#include "eval/extract.h"
#include "eval/generation.h"
#include "eval/likelihood.h"

namespace peft {

namespace {
struct Tally {
  int64_t n = 0, correct = 0, unparsed = 0, hit_limit = 0, truncated = 0, correct_norm = 0;
};

double ratio(int64_t a, int64_t n) { return n > 0 ? double(a) / double(n) : 0.0; }

Json base_results(const EvalTask& task, const Tally& t) {
  Json r;
  r["task"] = task.name;
  r["n"] = t.n;
  r["correct"] = t.correct;
  r["accuracy"] = ratio(t.correct, t.n);
  r["unparsed"] = t.unparsed;
  r["hit_limit"] = t.hit_limit;
  r["truncated"] = t.truncated;
  return r;
}

void progress(const EvalTask& task, const Tally& t, int64_t total) {
  if (t.n % 10 == 0 || t.n == total)
    std::fprintf(stderr, "%s: %lld/%lld accuracy %.4f\n", task.name.c_str(), (long long)t.n, (long long)total,
                 ratio(t.correct, t.n));
}

// Scores one output into `t` and returns its predictions.jsonl line.
Result<Json> score_one(const EvalTask& task, const EvalRecord& r, int64_t index, const std::string& prompt,
                       const std::string& output, Tally& t) {
  auto ex = score_output(task, output, r.answer);
  if (!ex.is_ok()) return ex.status().with_context(fmt::format("record {}", index));
  ++t.n;
  if (ex->correct) ++t.correct;
  if (!ex->parsed) ++t.unparsed;
  Json p;
  p["index"] = index;
  p["prompt"] = prompt;
  p["output"] = output;
  p["extracted"] = ex->extracted;
  p["label"] = r.answer;
  p["correct"] = ex->correct;
  return p;
}

}  // namespace

Result<EvalOutcome> eval_generate(const EvalTask& task, const std::vector<EvalRecord>& records, const EvalModel& m,
                                  int64_t max_new_tokens, int64_t num_beams, int64_t batch_size) {
  std::vector<std::string> prompts;
  prompts.reserve(records.size());
  for (const EvalRecord& r : records) {
    if (!m.chat) {
      prompts.push_back(eval_prompt(r.instruction, r.input));
      continue;
    }
    // The chat model is asked the instruction (its input after a blank line) as the user.
    const std::string user = r.input.empty() ? r.instruction : r.instruction + "\n\n" + r.input;
    PEFT_ASSIGN_OR_RETURN(std::string rendered, render_chat_prompt(*m.chat, user));
    prompts.push_back(std::move(rendered));
  }
  ContinuationOptions opt;
  opt.max_new_tokens = max_new_tokens;
  opt.num_beams = num_beams;
  opt.batch_size = batch_size;
  size_t done = 0;
  PEFT_ASSIGN_OR_RETURN(std::vector<Continuation> gens, generate_continuations(prompts, m, opt, [&](size_t) {
                          if (++done % 10 == 0 || done == prompts.size())
                            std::fprintf(stderr, "%s: generated %zu/%zu\n", task.name.c_str(), done, prompts.size());
                        }));
  EvalOutcome out;
  Tally t;
  for (size_t i = 0; i < records.size(); ++i) {
    const Continuation& g = gens[i];
    if (g.truncated) ++t.truncated;
    if (g.hit_limit) ++t.hit_limit;
    // Their output.split("### Response:")[1].strip(): what follows the prompt, up to a further header.
    std::string text = g.text;
    size_t cut = text.find("### Response:");
    if (cut != std::string::npos) text.resize(cut);
    const std::string output(strip_ws(text));
    PEFT_ASSIGN_OR_RETURN(Json p, score_one(task, records[i], int64_t(i), prompts[i], output, t));
    p["generated_tokens"] = int64_t(g.ids.size());
    out.predictions.push_back(std::move(p));
  }
  out.results = base_results(task, t);
  std::fprintf(stderr, "%s: accuracy %.4f\n", task.name.c_str(), ratio(t.correct, t.n));
  return out;
}

Result<EvalOutcome> eval_likelihood(const EvalTask& task, const std::vector<EvalRecord>& records, const EvalModel& m) {
  if (!is_multiple_choice(task))
    return Status::errorf(
        "--scoring likelihood needs a multiple-choice task (aqua, mathqa, boolq, piqa, "
        "siqa, hellaswag, winogrande, arc-e, arc-c, obqa), not '{}'",
        task.name);
  EvalOutcome out;
  Tally t;
  for (size_t i = 0; i < records.size(); ++i) {
    const EvalRecord& r = records[i];
    const std::string prompt = eval_prompt(r.instruction, r.input);
    const auto cands = make_candidates(task, r.instruction);
    auto lr = score_candidates(*m.model, m.hooks, *m.tok, prompt, cands);
    if (!lr.is_ok()) return lr.status().with_context(fmt::format("record {}", i));
    if (lr->truncated) ++t.truncated;
    CandidateRanking rank = rank_candidates(cands, *lr);
    const size_t best = rank.best, best_norm = rank.best_norm;
    const bool ok = cands[best].word == r.answer, ok_norm = cands[best_norm].word == r.answer;
    ++t.n;
    t.correct += ok;
    t.correct_norm += ok_norm;
    Json p;
    p["index"] = int64_t(i);
    p["prompt"] = prompt;
    p["output"] = cands[best].text;
    p["extracted"] = cands[best].word;
    p["extracted_norm"] = cands[best_norm].word;
    p["label"] = r.answer;
    p["correct"] = ok;
    p["correct_norm"] = ok_norm;
    p["scores"] = std::move(rank.scores);
    out.predictions.push_back(std::move(p));
    progress(task, t, int64_t(records.size()));
  }
  out.results = base_results(task, t);
  out.results["correct_norm"] = t.correct_norm;
  out.results["accuracy_norm"] = ratio(t.correct_norm, t.n);
  return out;
}

Result<EvalOutcome> eval_rescore(const EvalTask& task, const std::vector<EvalRecord>& records,
                                 const std::vector<std::pair<int64_t, std::string>>& outputs) {
  EvalOutcome out;
  Tally t;
  for (const auto& [index, output] : outputs) {
    const EvalRecord& r = records[size_t(index)];
    PEFT_ASSIGN_OR_RETURN(Json p, score_one(task, r, index, eval_prompt(r.instruction, r.input), output, t));
    out.predictions.push_back(std::move(p));
  }
  out.results = base_results(task, t);
  return out;
}

}  // namespace peft
