// Chat records: parsing (OpenAI messages, ShareGPT conversations, refusals naming the record),
// rendering with real chat templates, and labels only on the assistant turns.
#include <gtest/gtest.h>

#include "data/dataset.h"
#include "data/tokenize_chat.h"
#include "test_paths.h"

namespace peft {
namespace {

ChatTemplate shared_template(const std::string& stem) {
  auto t = load_chat_template_file(test::shared_path("data/chat_templates/templates/" + stem + ".jinja"));
  EXPECT_TRUE(t.is_ok()) << t.status().message();
  return *t;
}

Record one_record(const std::string& jsonl) {
  auto records = parse_dataset(jsonl, "chat.jsonl", DataFormat::Auto);
  EXPECT_TRUE(records.is_ok()) << records.status().message();
  return records.is_ok() ? (*records)[0] : Record{};
}

const char* kConversation =
    R"({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},)"
    R"( {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "2+2?"},)"
    R"( {"role": "assistant", "content": "4"}]})";

TEST(ChatData, AssistantTurnsAreTheSpansWithTheirEndOfTurn) {
  const ChatTemplate chatml = shared_template("Qwen-Qwen2.5-7B-Instruct");
  const Record r = one_record(kConversation);
  ASSERT_EQ(r.kind, RecordKind::Chat);
  auto chat = render_chat_record(chatml, r, {});
  ASSERT_TRUE(chat.is_ok()) << chat.status().message();
  ASSERT_EQ(chat->assistant_spans.size(), 2u);
  auto span = [&](size_t k) {
    return chat->text.substr(chat->assistant_spans[k].first,
                             chat->assistant_spans[k].second - chat->assistant_spans[k].first);
  };
  EXPECT_EQ(span(0), "Hello!<|im_end|>\n");
  EXPECT_EQ(span(1), "4<|im_end|>\n");
  EXPECT_EQ(chat->text.substr(0, chat->assistant_spans[0].first),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");

  // Llama 3.1: the header is the prompt's, the text and <|eot_id|> the turn's.
  const ChatTemplate llama = shared_template("meta-llama-Llama-3.1-8B-Instruct");
  ChatRenderOptions o;
  o.bos_token = "<|begin_of_text|>";
  o.today = "2026-01-15";
  auto l = render_chat_record(llama, r, o);
  ASSERT_TRUE(l.is_ok()) << l.status().message();
  ASSERT_EQ(l->assistant_spans.size(), 2u);
  EXPECT_EQ(l->text.substr(l->assistant_spans[1].first), "4<|eot_id|>");
}

TEST(ChatData, LabelsCoverOnlyAssistantTokensUnlessTrainOnInputs) {
  auto tok = load_tokenizer(test::shared_path("data/models/stories260K/tok512.model"));
  ASSERT_TRUE(tok.is_ok());
  const ChatTemplate chatml = shared_template("Qwen-Qwen2.5-7B-Instruct");
  const Record r = one_record(kConversation);
  auto ex = tokenize_chat_record(**tok, chatml, r, {}, 4096, false);
  ASSERT_TRUE(ex.is_ok()) << ex.status().message();
  ASSERT_EQ(ex->ids.size(), ex->labels.size());
  std::vector<int32_t> trained;
  for (size_t k = 0; k < ex->ids.size(); ++k)
    if (ex->labels[k] != kIgnoreLabel) trained.push_back(ex->ids[k]);
  // The trained ids are exactly the two turns, each encoded on its own.
  std::vector<int32_t> expected = (*tok)->encode("Hello!<|im_end|>\n", false);
  std::vector<int32_t> second = (*tok)->encode("4<|im_end|>\n", false);
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(trained, expected);
  EXPECT_GT(ex->n_masked, 0);

  auto all = tokenize_chat_record(**tok, chatml, r, {}, 4096, true);
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(all->labels, all->ids);
  auto cut = tokenize_chat_record(**tok, chatml, r, {}, 10, false);
  ASSERT_TRUE(cut.is_ok());
  EXPECT_EQ(cut->ids.size(), 10u);
  EXPECT_TRUE(cut->truncated);
}

TEST(ChatData, BosAndEosTextBecomeTheirIds) {
  auto tok = load_tokenizer(test::shared_path("data/models/stories260K/tok512.model"));
  ASSERT_TRUE(tok.is_ok());
  auto t = parse_chat_template("{{ bos_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}", "t");
  ASSERT_TRUE(t.is_ok());
  ChatRenderOptions o;
  o.bos_token = (*tok)->token_text((*tok)->bos_id());
  o.eos_token = (*tok)->token_text((*tok)->eos_id());
  auto ex = tokenize_chat_record(**tok, *t, one_record(kConversation), o, 4096, false);
  ASSERT_TRUE(ex.is_ok()) << ex.status().message();
  EXPECT_EQ(ex->ids.front(), (*tok)->bos_id());
  EXPECT_EQ(ex->ids.back(), (*tok)->eos_id());
  EXPECT_EQ(ex->labels.back(), (*tok)->eos_id());  // the end of an assistant turn is trained on
}

TEST(ChatData, ShareGptConversationsAreMapped) {
  const Record r =
      one_record(R"({"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}]})");
  ASSERT_EQ(r.kind, RecordKind::Chat);
  EXPECT_EQ(r.messages_json, R"([{"content":"Hi","role":"user"},{"content":"Hello!","role":"assistant"}])");
}

TEST(ChatData, BadRecordsAreRefusedNamingTheRecord) {
  struct Row {
    const char* line;
    const char* message;
  };
  const Row rows[] = {
      {R"({"messages": [{"role": "wizard", "content": "x"}]})", "chat.jsonl: line 1: message 0: unknown role 'wizard'"},
      {R"({"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "x"}]})",
       "chat.jsonl: line 1: message 0: 'content' must be a string, found 5"},
      {R"({"messages": [{"role": "user", "content": "only a question"}]})",
       "chat.jsonl: line 1: the conversation has no assistant turn to train on"},
      {R"({"messages": []})", "chat.jsonl: line 1: 'messages' must be a non-empty list"},
      {R"({"conversations": [{"from": "alien", "value": "x"}]})", "unknown 'from' 'alien'"},
  };
  for (const Row& row : rows) {
    auto records = parse_dataset(row.line, "chat.jsonl", DataFormat::Chat);
    ASSERT_FALSE(records.is_ok()) << row.line;
    EXPECT_NE(records.status().message().find(row.message), std::string::npos) << records.status().message();
  }
}

TEST(ChatData, TemplateErrorsNameTheRecord) {
  const ChatTemplate gemma = shared_template("google-gemma-2-2b-it");
  auto chat = render_chat_record(gemma, one_record(kConversation), {});
  ASSERT_FALSE(chat.is_ok());
  EXPECT_NE(chat.status().message().find("chat.jsonl: line 1"), std::string::npos) << chat.status().message();
  EXPECT_NE(chat.status().message().find("System role not supported"), std::string::npos);
}

}  // namespace
}  // namespace peft
