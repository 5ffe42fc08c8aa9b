// Generation, likelihood and rescoring evaluation loops with their tallies.
#include "eval/evaluator.h"

#include <algorithm>
#include <cstdio>

#include "core/threads.h"
#include "dist/comm.h"
#include "dist/shard.h"
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
  if (!dist::is_root()) return;
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
  // Under MPI each rank generates its share of the prompts (batched among themselves: a row of
  // a batch gets exactly what it gets alone) and every rank gets every continuation back in
  // record order, so the scoring and predictions.jsonl are one process's.
  size_t done = 0;
  PEFT_ASSIGN_OR_RETURN(
      std::vector<std::string> packed,
      dist::shard_items(
          int64_t(prompts.size()),
          [&](const std::vector<int64_t>& mine) -> Result<std::vector<std::string>> {
            std::vector<std::string> subset;
            for (int64_t i : mine) subset.push_back(prompts[size_t(i)]);
            PEFT_ASSIGN_OR_RETURN(std::vector<Continuation> gens, generate_continuations(subset, m, opt, [&](size_t) {
                                    if (++done % 10 == 0 || done == subset.size())
                                      std::fprintf(stderr, "%s%s: generated %zu/%zu\n", dist::rank_prefix().c_str(),
                                                   task.name.c_str(), done, subset.size());
                                  }));
            std::vector<std::string> out;
            for (const Continuation& g : gens)
              out.push_back(
                  Json{{"ids", g.ids}, {"text", g.text}, {"hit_limit", g.hit_limit}, {"truncated", g.truncated}}.dump(
                      -1, ' ', false, Json::error_handler_t::replace));
            return out;
          },
          "generating"));
  std::vector<Continuation> gens;
  for (const std::string& text : packed) {
    const Json j = Json::parse(text);
    gens.push_back(Continuation{j["ids"].get<std::vector<int32_t>>(), j["text"].get<std::string>(),
                                j["hit_limit"].get<bool>(), j["truncated"].get<bool>()});
  }
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
  if (dist::is_root()) std::fprintf(stderr, "%s: accuracy %.4f\n", task.name.c_str(), ratio(t.correct, t.n));
  return out;
}

Result<EvalOutcome> eval_likelihood(const EvalTask& task, const std::vector<EvalRecord>& records, const EvalModel& m) {
  if (!is_multiple_choice(task))
    return Status::errorf(
        "--scoring likelihood needs a multiple-choice task (aqua, mathqa, boolq, piqa, "
        "siqa, hellaswag, winogrande, arc-e, arc-c, obqa), not '{}'",
        task.name);
  // Under MPI each rank scores its share of the records; the prediction lines come back to
  // every rank in record order.
  PEFT_ASSIGN_OR_RETURN(
      std::vector<std::string> scored,
      dist::shard_items(
          int64_t(records.size()),
          [&](const std::vector<int64_t>& mine) -> Result<std::vector<std::string>> {
            std::vector<std::string> out;
            for (int64_t i : mine) {
              const EvalRecord& r = records[size_t(i)];
              adapt_threads();
              const auto cands = make_candidates(task, r.instruction);
              auto lr = score_candidates(*m.model, m.hooks, *m.tok, eval_prompt(r.instruction, r.input), cands);
              if (!lr.is_ok()) return lr.status().with_context(fmt::format("record {}", i));
              CandidateRanking rank = rank_candidates(cands, *lr);
              out.push_back(Json{{"best", rank.best},
                                 {"best_norm", rank.best_norm},
                                 {"scores", std::move(rank.scores)},
                                 {"truncated", lr->truncated}}
                                .dump(-1, ' ', false, Json::error_handler_t::replace));
              if (dist::size() > 1 && dist::is_root() &&
                  (out.size() % 10 == 0 || i + dist::size() >= int64_t(records.size())))
                std::fprintf(stderr, "%s: scored %zu of this rank's records\n", task.name.c_str(), out.size());
            }
            return out;
          },
          "scoring"));
  EvalOutcome out;
  Tally t;
  for (size_t i = 0; i < records.size(); ++i) {
    const EvalRecord& r = records[i];
    const std::string prompt = eval_prompt(r.instruction, r.input);
    const auto cands = make_candidates(task, r.instruction);
    Json one = Json::parse(scored[i]);
    if (one["truncated"].get<bool>()) ++t.truncated;
    CandidateRanking rank{one["best"].get<size_t>(), one["best_norm"].get<size_t>(), std::move(one["scores"])};
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
