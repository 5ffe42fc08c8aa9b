// Encoders through the CLI: train and evaluate a head on a GLUE file, and the errors a user
// meets — a head of the wrong size for the task, generation on an encoder, a GLUE file whose
// header matches no task, a label outside the task's set, a non-numeric STS-B score, a
// left-padded attention mask — each one line naming the file or flag, non-zero exit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"
#include "io/safetensors.h"

namespace peft {
namespace {

namespace fs = std::filesystem;
using test::run_peft;

using test::expect_error;

// A copy of an encoder fixture with a WordPiece vocab.txt of its vocabulary size.
std::string encoder_with_vocab(const test::TempDir& dir, const std::string& name) {
  const std::string dst = dir / name;
  fs::copy(std::string(PEFT_SOURCE_DIR) + "/tests/fixtures/encoders/" + name + "/model", dst,
           fs::copy_options::recursive);
  for (auto& e : fs::directory_iterator(dst)) fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  fs::permissions(dst, fs::perms::owner_all, fs::perm_options::add);
  const auto config = nlohmann::json::parse(test::read_all(dst + "/config.json"));
  const int64_t V = config["vocab_size"];
  std::ofstream vocab(dst + "/vocab.txt");
  for (const char* s : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) vocab << s << "\n";
  const char* words[] = {"the", "film", "was", "good", "bad", "a", "movie", "it", "is", "not", "great", "fun"};
  for (int64_t i = 5; i < V; ++i)
    vocab << (size_t(i - 5) < std::size(words) ? std::string(words[i - 5]) : "w" + std::to_string(i)) << "\n";
  return dst;
}

std::string write(const test::TempDir& dir, const std::string& name, const std::string& content) {
  std::ofstream(dir / name) << content;
  return dir / name;
}

TEST(EncoderCli, TrainAndEvaluateAHeadOnAGlueFile) {
  test::TempDir dir;
  // roberta_seqcls has 2 labels but no vocab.txt suits its byte-level BPE; bert_seqcls has 3:
  // an MNLI-layout file (3 classes) fits it.
  const std::string model = encoder_with_vocab(dir, "bert_seqcls");
  std::string tsv = "index\tpromptID\tpairID\tgenre\tsentence1\tsentence2\tgold_label\n";
  const char* labels[] = {"entailment", "neutral", "contradiction"};
  for (int i = 0; i < 24; ++i)
    tsv += std::to_string(i) + "\t1\t1e\tgov\tthe film was " + (i % 2 ? "good" : "bad") + "\tit is " +
           (i % 3 ? "fun" : "not great") + "\t" + labels[i % 3] + "\n";
  const std::string data = write(dir, "mnli.tsv", tsv);
  auto r = run_peft("train --model " + model + " --data " + data + " --data-format glue --output " + (dir / "out") +
                    " --max-steps 2 --batch-size 8 --micro-batch-size 4 --val-set-size 4 --warmup-steps 0 "
                    "--method lora --lora-r 2 --target-modules query,value");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto config = nlohmann::json::parse(test::read_all(dir / "out/adapter_config.json"));
  EXPECT_EQ(config["task_type"], "SEQ_CLS");
  auto e = run_peft("eval --task mnli --model " + model + " --adapter " + (dir / "out") + " --data " + data +
                    " --out " + (dir / "eval"));
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(e.out.rfind("mnli accuracy=", 0), 0u) << e.out;
  auto results = nlohmann::json::parse(test::read_all(dir / "eval/results.json"));
  EXPECT_EQ(results["scoring"], "classifier");
  EXPECT_EQ(results["n"], 24);
  // Generation flags do not apply to a head.
  expect_error(
      run_peft("eval --task mnli --model " + model + " --data " + data + " --num-beams 2 --out " + (dir / "eval2")),
      "classification head predicts the label itself");
}

TEST(EncoderCli, ErrorsNameTheFileOrFlag) {
  test::TempDir dir;
  const std::string model = encoder_with_vocab(dir, "bert_seqcls");
  const std::string out = dir / "out";
  const std::string common = " --output " + out + " --max-steps 1 --val-set-size 0 --data-format glue";
  // A 2-class file for a 3-label head: refused, naming --reinit-head.
  const std::string sst2 = write(dir, "sst2.tsv", "sentence\tlabel\nthe film\t1\nbad film\t0\n");
  expect_error(run_peft("train --model " + model + " --data " + sst2 + common),
               "the checkpoint's head layer 'classifier' has shape [3, 32] but the task needs [2, 32] (2 labels): "
               "pass --reinit-head");
  expect_error(run_peft("train --model " + model + " --data " + sst2 + common + " --task-type token-cls"),
               "--task-type token-cls: peft train has no token-classification data format yet");
  expect_error(run_peft("train --model " + model + " --data " + sst2 + common + " --task-type causal-lm"),
               "--task-type causal-lm: " + model + " is an encoder");
  expect_error(run_peft("train --model " + model + " --data " + sst2 + common + " --task-type regression"),
               "--task-type: expected seq-cls, token-cls or causal-lm, found 'regression'");
  const std::string unknown = write(dir, "x.tsv", "a\tb\tc\n1\t2\t3\n");
  expect_error(run_peft("train --model " + model + " --data " + unknown + common), "x.tsv: line 1: not a GLUE layout");
  const std::string bad_label =
      write(dir, "m.tsv", "index\tsentence1\tsentence2\tgold_label\n0\ta\tb\tentailment\n1\ta\tb\tmaybe\n");
  expect_error(run_peft("train --model " + model + " --data " + bad_label + common),
               "m.tsv: line 3: label 'maybe' is not one of mnli's labels");
  const std::string bad_score = write(dir, "s.tsv", "index\tsentence1\tsentence2\tscore\n0\ta\tb\thigh\n");
  expect_error(run_peft("train --model " + model + " --data " + bad_score + common),
               "s.tsv: line 2: score 'high' is not a number in [0, 5]");
  EXPECT_FALSE(fs::exists(out + "/adapter_model.safetensors"));
  // An encoder generates nothing.
  expect_error(run_peft("generate --model " + model + " --prompt hello"), "is an encoder (bert)");
  expect_error(run_peft("bench train --model " + model), "peft bench: " + model + " is an encoder (bert)");
  expect_error(
      run_peft("eval --task boolq --model " + model + " --limit 1 --data " +
               test::shared_path("data/datasets/llm_adapters/dataset/boolq/test.json") + " --out " + (dir / "boolq")),
      "is an encoder (bert)");
  // peft logits: a left-padded attention mask is refused, naming the row.
  OwnedTensor ids(DType::I64, {1, 4}), mask(DType::I64, {1, 4});
  for (int64_t i = 0; i < 4; ++i) {
    static_cast<int64_t*>(ids.view().data)[i] = 5 + i;
    static_cast<int64_t*>(mask.view().data)[i] = i == 0 ? 0 : 1;
  }
  const std::string in = dir / "in.safetensors";
  ASSERT_TRUE(write_safetensors(in, {{"input_ids", ids.view()}, {"attention_mask", mask.view()}}, {}).is_ok());
  expect_error(run_peft("logits --model " + model + " --input " + in + " --output " + (dir / "o.safetensors")),
               "attention_mask row 0 is not right padding");
  EXPECT_FALSE(fs::exists(dir / "o.safetensors"));
  // A token-classification checkpoint on a GLUE file: its classifier is the wrong shape for a
  // sequence head.
  const std::string tokcls = encoder_with_vocab(dir, "bert_tokcls");
  expect_error(run_peft("train --model " + tokcls + " --data " + sst2 + common),
               "head layer 'classifier' has shape [5, 32] but the task needs [2, 32]");
}

// --reinit-head: a 3-label checkpoint learns a 2-class task with a new classifier; the adapter
// carries it, and evaluation on the same base takes the adapter's head (as PEFT's
// from_pretrained(num_labels=2, ignore_mismatched_sizes=True) + modules_to_save would).
TEST(EncoderCli, ReinitHeadTrainsANewClassifier) {
  test::TempDir dir;
  const std::string model = encoder_with_vocab(dir, "bert_seqcls");
  const std::string out = dir / "out";
  std::string rows = "sentence\tlabel\n";
  for (int i = 0; i < 8; ++i) rows += std::string(i % 2 ? "the film\t1\n" : "bad film\t0\n");
  const std::string sst2 = write(dir, "sst2.tsv", rows);
  const auto r = run_peft("train --model " + model + " --data " + sst2 + " --output " + out +
                          " --max-steps 2 --batch-size 4 --micro-batch-size 4 --val-set-size 0 --data-format glue "
                          "--reinit-head --method lora");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto st = SafetensorsFile::open(out + "/adapter_model.safetensors");
  ASSERT_TRUE(st.is_ok());
  const Tensor* w = st->find("base_model.model.classifier.weight");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dims(), (std::vector<int64_t>{2, 32}));
  const auto e = run_peft("eval --task sst2 --model " + model + " --adapter " + out + " --data " + sst2 + " --out " +
                          (dir / "eval"));
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find("accuracy"), std::string::npos) << e.out;
}

}  // namespace
}  // namespace peft
