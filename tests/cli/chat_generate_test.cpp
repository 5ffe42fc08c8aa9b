// `peft generate --chat` and `peft eval --chat`: the user's text rendered with a chat template
// (the model's or --chat-template) as the prompt, the reply alone printed or scored.
#include <filesystem>

#include "cli/stories_suite.h"

namespace peft::test {
namespace {

class ChatGenerate : public StoriesSuite {
 protected:
  static std::string chatml() { return shared_path("data/chat_templates/templates/Qwen-Qwen2.5-7B-Instruct.jinja"); }
  static std::string llama3() {
    return shared_path("data/chat_templates/templates/meta-llama-Llama-3.1-8B-Instruct.jinja");
  }
};

// The chat reply is exactly what plain generation continues the rendered conversation with
// (ChatML writes no BOS, so both encode the same text the same way).
TEST_F(ChatGenerate, ReplyIsTheContinuationOfTheRenderedPrompt) {
  const std::string messages = *dir_ / "m.json";
  std::ofstream(messages) << R"([{"role": "system", "content": "You tell stories."},
                                 {"role": "user", "content": "Tell me about Lily."}])";
  const CliResult rendered =
      run_peft("chat-template --template " + chatml() + " --messages " + messages + " --add-generation-prompt");
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  ASSERT_EQ(rendered.out.find('\''), std::string::npos);  // quoted below
  const CliResult plain =
      run_peft("generate --model " + model_ + " --no-bos --max-new-tokens 12 --prompt '" + rendered.out + "'");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const CliResult chat = run_peft("generate --model " + model_ + " --chat-template " + chatml() +
                                  " --system 'You tell stories.' --max-new-tokens 12 --prompt 'Tell me about Lily.'");
  ASSERT_EQ(chat.exit_code, 0) << chat.err;
  EXPECT_GT(chat.out.size(), 1u);
  EXPECT_EQ(plain.out, rendered.out + chat.out);
}

TEST_F(ChatGenerate, EvalAsksEachInstructionInTheTemplate) {
  const std::string out = *dir_ / "eval-chat";
  const CliResult r =
      run_peft("eval --model " + model_ + " --task boolq --limit 2 --max-new-tokens 4 --chat-template " + llama3() +
               " --system 'Answer true or false.' --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream f(out + "/predictions.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(f, line));
  const nlohmann::json p = nlohmann::json::parse(line);
  const std::string prompt = p["prompt"];
  EXPECT_EQ(prompt.rfind("<s><|start_header_id|>system<|end_header_id|>", 0), 0u) << prompt;
  EXPECT_NE(prompt.find("Answer true or false.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"),
            std::string::npos)
      << prompt;
  EXPECT_TRUE(prompt.ends_with("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")) << prompt;
  std::ifstream res(out + "/results.json");
  const nlohmann::json results = nlohmann::json::parse(res);
  EXPECT_EQ(results["settings"]["system"], "Answer true or false.");
  EXPECT_EQ(results["settings"]["chat_template"], llama3());
}

TEST_F(ChatGenerate, RefusalsNameTheCause) {
  CliResult r = run_peft("generate --model " + model_ + " --system hi --prompt x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--system applies to chat prompts"), std::string::npos) << r.err;
  r = run_peft("generate --model " + model_ + " --chat --prompt x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("has no chat template"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--chat-template FILE"), std::string::npos) << r.err;
  r = run_peft("generate --model " + model_ + " --chat-template " + chatml() + " --no-bos --prompt x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--no-bos does not apply to chat prompts"), std::string::npos) << r.err;
  r = run_peft("eval --model " + model_ + " --task sst2 --chat-template " + chatml() + " --out " + (*dir_ / "e"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not to --task sst2"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "e"));
}

}  // namespace
}  // namespace peft::test
