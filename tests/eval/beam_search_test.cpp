// Beam search on stories260K: the kept hypothesis's score matches a fresh forward (cache reordering).
#include <gtest/gtest.h>

#include <algorithm>
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

// transformers' no_repeat_ngram_size: no n-gram of prompt + output occurs twice, and the kept
// tokens' log-probabilities are still the model's own (banning does not renormalise).
TEST_F(EvalBeamSearch, NoRepeatNgramsAndLengthPenalty) {
  auto model = load_model(model_);
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  auto tok = load_tokenizer(model_);
  ASSERT_TRUE(tok.is_ok());
  const auto prompt = (*tok)->encode("Once upon a time, there was a little girl. The little girl", true);
  for (int64_t n : {2, 3}) {
    BeamOptions o;
    o.no_repeat_ngram_size = n;
    auto beam = beam_search(**model, nullptr, prompt, 4, 32, {}, o);
    ASSERT_TRUE(beam.is_ok()) << beam.status().message();
    std::vector<int32_t> full = prompt;
    full.insert(full.end(), beam->tokens.begin(), beam->tokens.end());
    // Every n-gram that ends in the output is new.
    for (size_t end = prompt.size(); end < full.size(); ++end) {
      if (end + 1 < size_t(n)) continue;
      const size_t s = end + 1 - size_t(n);
      for (size_t t = 0; t < s; ++t)
        EXPECT_FALSE(std::equal(full.begin() + long(t), full.begin() + long(t) + n, full.begin() + long(s)))
            << n << "-gram at " << s << " repeats the one at " << t;
    }
    if (beam->ended_with_eos) full.push_back((*model)->config.eos_id);
    const double lp = -(sequence_nll(**model, nullptr, full).nll - sequence_nll(**model, nullptr, prompt).nll);
    EXPECT_NEAR(beam->logprob, lp, 1e-3 * std::max(1.0, std::fabs(lp)));
  }
  // length_penalty 1 is the default search; a bad value is an error.
  auto plain = beam_search(**model, nullptr, prompt, 3, 16);
  auto one = beam_search(**model, nullptr, prompt, 3, 16, {}, BeamOptions{1.0, 0});
  ASSERT_TRUE(plain.is_ok() && one.is_ok());
  EXPECT_EQ(plain->tokens, one->tokens);
  EXPECT_FALSE(beam_search(**model, nullptr, prompt, 3, 16, {}, BeamOptions{NAN, 0}).is_ok());
  EXPECT_FALSE(beam_search(**model, nullptr, prompt, 3, 16, {}, BeamOptions{1.0, -1}).is_ok());
}

}  // namespace
}  // namespace peft
