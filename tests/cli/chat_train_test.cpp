// `peft train` on chat data: rendered with a chat template (the model's or --chat-template),
// trained on the assistant turns; and `peft chat-template` on a model folder.
#include <filesystem>

#include "cli/stories_suite.h"

namespace peft::test {
namespace {

class ChatTrain : public StoriesSuite {
 protected:
  static std::string chat_data(const std::string& name, int n) {
    const std::string path = *dir_ / name;
    std::ofstream f(path);
    for (int i = 0; i < n; ++i)
      f << nlohmann::json{{"messages",
                           {{{"role", "user"}, {"content", "Tell me about Lily " + std::to_string(i) + "."}},
                            {{"role", "assistant"}, {"content", "Once upon a time, Lily went to the park."}}}}}
               .dump()
        << "\n";
    return path;
  }
  static std::string chatml() { return shared_path("data/chat_templates/templates/Qwen-Qwen2.5-7B-Instruct.jinja"); }
  static std::string flags() { return " --max-steps 3 --batch-size 4 --micro-batch-size 4 --val-set-size 0 --seed 1"; }
};

TEST_F(ChatTrain, TrainsWithATemplateFileAndLowersTheLoss) {
  const std::string out = *dir_ / "chat-lora";
  const CliResult r =
      run_peft("train --model " + model_ + " --data " + chat_data("chat.jsonl", 16) + " --chat-template " + chatml() +
               " --output " + out + flags() + " --learning-rate 1e-2 --logging-steps 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(out + "/adapter_model.safetensors"));
}

TEST_F(ChatTrain, UsesTheModelsOwnTemplateAndChatTemplateCommandShowsIt) {
  // A model folder whose tokenizer_config.json carries the template, as Hugging Face ships it.
  const std::string model = *dir_ / "stories-chat";
  std::filesystem::copy(model_, model, std::filesystem::copy_options::recursive);
  std::ifstream t(chatml());
  const std::string source((std::istreambuf_iterator<char>(t)), std::istreambuf_iterator<char>());
  std::ofstream(model + "/tokenizer_config.json") << nlohmann::json{{"chat_template", source}}.dump();
  const CliResult r = run_peft("train --model " + model + " --data " + chat_data("chat2.jsonl", 8) +
                               " --data-format chat --output " + (*dir_ / "chat-lora2") + flags());
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::string messages = *dir_ / "m.json";
  std::ofstream(messages) << R"([{"role": "user", "content": "Hi"}])";
  const CliResult shown =
      run_peft("chat-template --model " + model + " --messages " + messages + " --add-generation-prompt");
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out,
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST_F(ChatTrain, RefusalsNameTheCause) {
  const std::string data = chat_data("chat3.jsonl", 4);
  CliResult r = run_peft("train --model " + model_ + " --data " + data + " --output " + (*dir_ / "x") + flags());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("has no chat template"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "x"));

  const std::string bad = *dir_ / "bad.jsonl";
  std::ofstream(bad) << R"({"messages": [{"role": "user", "content": "Hi"}]})"
                     << "\n";
  r = run_peft("train --model " + model_ + " --data " + bad + " --chat-template " + chatml() + " --output " +
               (*dir_ / "y") + flags());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.jsonl: line 1: the conversation has no assistant turn"), std::string::npos) << r.err;

  const std::string tmpl = *dir_ / "bad.jinja";
  std::ofstream(tmpl) << "{% for m in messages %}\n{{ m.content | wordwrap }}{% endfor %}";
  r = run_peft("train --model " + model_ + " --data " + data + " --chat-template " + tmpl + " --output " +
               (*dir_ / "z") + flags());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.jinja: template line 2: unsupported feature: the filter 'wordwrap'"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace peft::test
