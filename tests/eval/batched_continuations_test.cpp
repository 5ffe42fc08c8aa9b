// generate_continuations on stories260K: batched greedy decoding (prompts of different lengths,
// left padding, rows finishing at different steps) returns exactly what one-at-a-time does.
#include <gtest/gtest.h>

#include "cli/stories_suite.h"
#include "eval/generation.h"
#include "tokenizer/tokenizer.h"

namespace peft {
namespace {

class EvalBatchedContinuations : public test::StoriesSuite {};

TEST_F(EvalBatchedContinuations, SameAsOneAtATime) {
  auto model = load_model(model_);
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  auto tok = load_tokenizer(model_);
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  const std::vector<std::string> prompts = {"Once upon a time",
                                            "Lily and Ben went to the park. They saw a big dog and",
                                            "The",
                                            "Tom had a red ball. He liked to play with it every day. One day,",
                                            "She was sad because",
                                            "Once upon a time, there was a little girl named Sue.",
                                            "A cat"};
  const EvalModel m{model->get(), nullptr, tok->get()};
  ContinuationOptions one;
  one.max_new_tokens = 40;
  // stories260K never emits its EOS id (llama2.c ends stories with BOS), so make a common
  // token the EOS: then some rows end early, at different steps, and others at the limit.
  auto first = generate_continuations(prompts, m, one);
  ASSERT_TRUE(first.is_ok()) << first.status().message();
  ASSERT_GT((*first)[0].ids.size(), 6u);
  (*model)->config.eos_id = (*first)[0].ids[6];
  auto want = generate_continuations(prompts, m, one);
  ASSERT_TRUE(want.is_ok()) << want.status().message();
  bool any_eos = false, any_limit = false;
  for (const auto& c : *want) (c.hit_limit ? any_limit : any_eos) = true;
  EXPECT_TRUE(any_eos && any_limit) << "the prompts should exercise both ways of stopping";
  for (int64_t bs : {2, 3, 8}) {
    ContinuationOptions batched = one;
    batched.batch_size = bs;
    std::vector<int> done(prompts.size(), 0);
    auto got = generate_continuations(prompts, m, batched, [&](size_t i) { ++done[i]; });
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    ASSERT_EQ(got->size(), prompts.size());
    for (size_t i = 0; i < prompts.size(); ++i) {
      EXPECT_EQ((*got)[i].ids, (*want)[i].ids) << "batch " << bs << " prompt " << i;
      EXPECT_EQ((*got)[i].text, (*want)[i].text);
      EXPECT_EQ((*got)[i].hit_limit, (*want)[i].hit_limit);
      EXPECT_EQ(done[i], 1) << "on_done once per prompt";
    }
  }
  ContinuationOptions bad = one;
  bad.batch_size = 0;
  EXPECT_FALSE(generate_continuations(prompts, m, bad).is_ok());
}

}  // namespace
}  // namespace peft
