// Rendering chat records and finding the assistant turns in the rendering.
#include "data/tokenize_chat.h"

#include "data/chat_prompt.h"

namespace peft {

namespace {

using ojson = nlohmann::ordered_json;

}  // namespace

Result<RenderedChat> render_chat_record(const ChatTemplate& tmpl, const Record& record,
                                        const ChatRenderOptions& options) {
  const ojson messages = ojson::parse(record.messages_json);
  ChatRenderOptions whole = options;
  whole.add_generation_prompt = false;
  auto with_record = [&](Status s) { return Status::errorf("{}: {}", record.where, s.message()); };
  Result<std::string> full = render_chat(tmpl, messages, whole);
  if (!full.is_ok()) return with_record(full.status());
  RenderedChat out;
  out.text = std::move(*full);
  size_t cursor = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i]["role"] != "assistant") continue;
    ojson before = ojson::array();
    for (size_t k = 0; k < i; ++k) before.push_back(messages[k]);
    ojson through = before;
    through.push_back(messages[i]);
    ChatRenderOptions prompt = options;
    prompt.add_generation_prompt = true;
    Result<std::string> p = i == 0 ? Result<std::string>(std::string()) : render_chat(tmpl, before, prompt);
    if (!p.is_ok()) return with_record(p.status());
    Result<std::string> q = render_chat(tmpl, through, whole);
    if (!q.is_ok()) return with_record(q.status());
    if (q->compare(0, p->size(), *p) != 0)
      return Status::errorf(
          "{}: message {}: the chat template does not render this assistant turn as a "
          "continuation of the generation prompt before it; cannot tell which tokens to train on",
          record.where, i);
    const std::string turn = q->substr(p->size());
    // Usually the whole rendering continues the same way; otherwise (templates that rewrite
    // earlier turns) the turn's text is found after the previous one.
    size_t at =
        out.text.compare(0, q->size(), *q) == 0 && p->size() >= cursor ? p->size() : out.text.find(turn, cursor);
    if (at == std::string::npos || turn.empty())
      return Status::errorf(
          "{}: message {}: the assistant turn is not found in the rendered conversation (the "
          "chat template renders it differently in context)",
          record.where, i);
    out.assistant_spans.emplace_back(at, at + turn.size());
    cursor = at + turn.size();
  }
  return out;
}

Result<TokenizedExample> tokenize_chat_record(const Tokenizer& tokenizer, const ChatTemplate& tmpl,
                                              const Record& record, const ChatRenderOptions& options,
                                              int64_t cutoff_len, bool train_on_inputs) {
  PEFT_ASSIGN_OR_RETURN(RenderedChat chat, render_chat_record(tmpl, record, options));
  TokenizedExample ex;
  size_t pos = 0;
  auto add = [&](size_t end, bool trained) {
    if (end <= pos) return;
    std::vector<int32_t> ids = encode_rendered(tokenizer, std::string_view(chat.text).substr(pos, end - pos));
    for (int32_t id : ids) {
      ex.ids.push_back(id);
      ex.labels.push_back(trained || train_on_inputs ? id : kIgnoreLabel);
    }
    pos = end;
  };
  for (const auto& [begin, end] : chat.assistant_spans) {
    add(begin, false);
    add(end, true);
  }
  add(chat.text.size(), false);
  if (int64_t(ex.ids.size()) > cutoff_len) {
    ex.truncated = true;
    ex.ids.resize(size_t(cutoff_len));
    ex.labels.resize(size_t(cutoff_len));
  }
  for (int32_t l : ex.labels) {
    if (l != kIgnoreLabel) break;
    ++ex.n_masked;
  }
  return ex;
}

}  // namespace peft
