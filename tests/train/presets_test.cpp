// peft train --preset: the preset's flags go right after "train", before the user's (so the
// user's win), other subcommands' --preset (peft bench) is left alone, unknown names are errors.
#include "train/presets.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace peft {
namespace {

TEST(TrainPresets, FlagsGoBeforeTheUsersAndOnlyForTrain) {
  auto out = expand_train_presets(
      {"peft", "--threads", "2", "train", "--model", "m", "--preset", "adamix-glue-bert", "--learning-rate", "1e-3"});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  const std::vector<std::string>& a = *out;
  ASSERT_GT(a.size(), 8u);
  EXPECT_EQ(a[3], "train");
  EXPECT_EQ(a[4], "--method");
  EXPECT_EQ(a[5], "adamix");
  // The user's flags come last, after every preset flag: CLI11 keeps a flag's last value.
  EXPECT_EQ(std::vector<std::string>(a.end() - 4, a.end()),
            (std::vector<std::string>{"--model", "m", "--learning-rate", "1e-3"}));
  // The preset's own learning rate is there, earlier.
  auto lr = std::find(a.begin(), a.end(), "--learning-rate");
  ASSERT_NE(lr, a.end());
  EXPECT_EQ(*(lr + 1), "4e-4");

  // The user's --max-steps drops the preset's --epochs (train refuses both together).
  auto steps = expand_train_presets({"peft", "train", "--preset", "adamix-glue-roberta", "--max-steps", "5"});
  ASSERT_TRUE(steps.is_ok());
  EXPECT_EQ(std::find(steps->begin(), steps->end(), "--epochs"), steps->end());
  EXPECT_NE(std::find(steps->begin(), steps->end(), "--warmup-ratio"), steps->end());

  const std::vector<std::string> bench = {"peft", "bench", "train", "--preset", "stories260k"};
  EXPECT_EQ(*expand_train_presets(bench), bench);
  auto unknown = expand_train_presets({"peft", "train", "--preset=nope"});
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_NE(unknown.status().message().find("--preset 'nope' is unknown (presets: adamix-glue-roberta"),
            std::string::npos);
  EXPECT_FALSE(expand_train_presets({"peft", "train", "--preset"}).is_ok());
  for (const TrainPreset& p : train_presets()) EXPECT_FALSE(std::string(p.source).empty()) << p.name;
}

}  // namespace
}  // namespace peft
