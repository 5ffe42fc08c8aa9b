// No flag is silently ignored: a flag a subcommand does not use for the given inputs is an
// error naming it (issue 12's audit of every subcommand), and nothing is written.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli/stories_suite.h"

namespace peft::test {
namespace {

class UnusedFlags : public StoriesSuite {};

TEST_F(UnusedFlags, EveryCombinationThatWouldIgnoreAFlagIsRefused) {
  const std::string m = model_, out = *dir_ / "out";
  const std::string data = write_say_ok_data("say.jsonl", 8);
  const std::string boolq = shared_path("data/datasets/llm_adapters/dataset/boolq/test.json");
  struct Case {
    std::string args, error;
  };
  const Case cases[] = {
      // generate: sampling knobs under greedy decoding
      {"generate --model " + m + " --prompt Hi --seed 3", "--seed only applies when sampling (--temperature > 0)"},
      {"generate --model " + m + " --prompt Hi --top-k 5", "--top-k only applies when sampling"},
      {"generate --model " + m + " --prompt Hi --top-p 0.5 --temperature 0", "--top-p only applies when sampling"},
      {"generate --model " + m + " --prompt Hi --adapter-scale 0.5", "--adapter-scale needs --adapter"},
      // eval: knobs of the modes not chosen
      {"eval --model " + m + " --task boolq --data " + boolq + " --limit 2 --scoring likelihood --num-beams 2 --out " +
           out,
       "--num-beams applies to --scoring generate"},
      {"eval --model " + m + " --task boolq --data " + boolq + " --limit 2 --scoring likelihood --batch-size 4 --out " +
           out,
       "--batch-size applies to --scoring generate"},
      {"eval --model " + m + " --task boolq --data " + boolq + " --limit 2 --num-beams 2 --batch-size 4 --out " + out,
       "--batch-size applies to greedy generation"},
      {"eval --model " + m + " --task perplexity --data " + data + " --max-new-tokens 4 --out " + out,
       "--max-new-tokens does not apply to --task perplexity"},
      {"eval --model " + m + " --task boolq --data " + boolq + " --predictions " + data + " --out " + out,
       "--model is not used when --predictions rescores saved outputs"},
      // train: settings the run would not use
      {"train --model " + m + " --data " + data + " --output " + out + " --max-steps 2 --epochs 5",
       "--epochs has no effect: --max-steps sets the length of the run"},
      {"train --model " + m + " --data " + data + " --output " + out + " --max-steps 2 --val-set-size 0 --eval-steps 1",
       "--eval-steps has no effect with --val-set-size 0"},
      {"train --model " + m + " --data " + data + " --output " + out + " --data-format text --train-on-inputs false",
       "--train-on-inputs has no effect on --data-format text"},
      {"train --model " + m + " --data " + data + " --output " + out + " --method ia3 --lora-r 4",
       "--lora-r does not apply to --method ia3"},
      // tokenize: special-token flags of the other mode
      {"tokenize --model " + m + " --add-special", "--add-special applies to --json mode"},
      {"tokenize --model " + m + " --json --no-bos", "--no-bos applies to line mode"},
      {"tokenize --model " + m + " --decode --no-bos", "--no-bos applies to encoding, not --decode"},
      // export: GGUF-only flags on other formats
      {"export --format peft-lora --model " + m + " --adapter " + m + " --name x --out " + out,
       "--name applies to --format gguf"},
      // bench: a rank for a method without one
      {"bench train --preset stories260k --method ia3 --lora-r 4 --steps 1 --warmup 0",
       "--lora-r does not apply to --method ia3"},
  };
  for (const Case& c : cases) {
    auto r = run_peft(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_FALSE(std::filesystem::exists(out)) << c.args;
  }
}

}  // namespace
}  // namespace peft::test
