// Beam search on stories260K: the kept hypothesis's score matches a fresh forward (cache reordering).
#include <gtest/gtest.h>

#include <cmath>

#include "cli/stories_suite.h"
#include "eval/beam_search.h"
#include "eval/likelihood.h"
#include "model/generate.h"
#include "tokenizer/tokenizer.h"

namespace peft {
namespace {

class EvalBeamSearch : public test::StoriesSuite {};

TEST_F(EvalBeamSearch, ScoreMatchesAFreshForwardAndBeatsGreedy) {
  auto model = load_model(model_);
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  auto tok = load_tokenizer(model_);
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  for (const char* text : {"Once upon a time", "Lily and Ben went to the park. They"}) {
    const auto prompt = (*tok)->encode(text, true);
    const int64_t P = int64_t(prompt.size()), N = 24;
    auto beam = beam_search(**model, nullptr, prompt, 4, N);
    ASSERT_TRUE(beam.is_ok()) << beam.status().message();
    ASSERT_FALSE(beam->tokens.empty());
    EXPECT_LE(int64_t(beam->tokens.size()), N);
    // Recompute the hypothesis's log-probability from scratch.
    std::vector<int32_t> full = prompt;
    full.insert(full.end(), beam->tokens.begin(), beam->tokens.end());
    if (beam->ended_with_eos) full.push_back((*model)->config.eos_id);
    const double lp = -(sequence_nll(**model, nullptr, full).nll - sequence_nll(**model, nullptr, prompt).nll);
    EXPECT_NEAR(beam->logprob, lp, 1e-3 * std::max(1.0, std::fabs(lp))) << text;
    // Greedy's continuation, scored the same way, does not beat the beam's length-normalised score.
    GenerateOptions go;
    go.max_new_tokens = N;
    auto greedy = generate(**model, prompt, go);
    ASSERT_TRUE(greedy.is_ok());
    std::vector<int32_t> g = prompt;
    g.insert(g.end(), greedy->begin(), greedy->end());
    const bool g_eos = !greedy->empty() && greedy->back() == (*model)->config.eos_id;
    const double glp = -(sequence_nll(**model, nullptr, g).nll - sequence_nll(**model, nullptr, prompt).nll);
    const double g_len = double(P + int64_t(greedy->size()) - (g_eos ? 1 : 0));
    const double b_len = double(P + int64_t(beam->tokens.size()));
    EXPECT_GE(beam->logprob / b_len, glp / g_len - 1e-6) << text;
  }
}

}  // namespace
}  // namespace peft
