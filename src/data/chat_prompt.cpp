// Chat prompts for generation and evaluation, and the end of the assistant's turn.
#include "data/chat_prompt.h"

#include <algorithm>

namespace peft {

namespace {
using ojson = nlohmann::ordered_json;

ChatRenderOptions render_options(const ChatTemplate& tmpl, bool generation_prompt) {
  ChatRenderOptions o;
  o.add_generation_prompt = generation_prompt;
  o.bos_token = tmpl.bos_token;
  o.eos_token = tmpl.eos_token;
  return o;
}

ojson messages_of(const ChatPrompt& p, const std::string& user) {
  ojson m = ojson::array();
  if (!p.system.empty()) m.push_back({{"role", "system"}, {"content", p.system}});
  m.push_back({{"role", "user"}, {"content", user}});
  return m;
}
}  // namespace

std::vector<int32_t> encode_rendered(const Tokenizer& tokenizer, std::string_view text) {
  // SentencePiece and GPT-2 readers tokenize "<s>" as characters; tokenizer.json handles its
  // added tokens itself. So the BOS/EOS strings are cut out and given their ids here.
  std::vector<std::pair<std::string, int32_t>> specials;
  for (int32_t id : {tokenizer.bos_id(), tokenizer.eos_id()})
    if (id >= 0 && !tokenizer.token_text(id).empty()) specials.emplace_back(tokenizer.token_text(id), id);
  std::vector<int32_t> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t hit = std::string_view::npos;
    int32_t hit_id = -1;
    size_t hit_len = 0;
    for (const auto& [s, id] : specials) {
      const size_t k = text.find(s, pos);
      if (k < hit) hit = k, hit_id = id, hit_len = s.size();
    }
    const size_t end = hit == std::string_view::npos ? text.size() : hit;
    if (end > pos) {
      std::vector<int32_t> ids = tokenizer.encode(text.substr(pos, end - pos), /*add_bos=*/false);
      out.insert(out.end(), ids.begin(), ids.end());
    }
    if (hit == std::string_view::npos) break;
    out.push_back(hit_id);
    pos = hit + hit_len;
  }
  return out;
}

Result<ChatPrompt> load_chat_prompt(const std::string& model_dir, const std::string& template_file,
                                    const std::string& system, const Tokenizer& tokenizer) {
  ChatPrompt p;
  if (!template_file.empty()) {
    PEFT_ASSIGN_OR_RETURN(p.tmpl, load_chat_template_file(template_file));
  } else {
    PEFT_ASSIGN_OR_RETURN(p.tmpl, load_model_chat_template(model_dir));
  }
  // A template file carries no tokens: the tokenizer's own strings stand in.
  if (p.tmpl.bos_token.empty() && tokenizer.bos_id() >= 0) p.tmpl.bos_token = tokenizer.token_text(tokenizer.bos_id());
  if (p.tmpl.eos_token.empty() && tokenizer.eos_id() >= 0) p.tmpl.eos_token = tokenizer.token_text(tokenizer.eos_id());
  p.system = system;
  if (tokenizer.eos_id() >= 0) p.end_ids.push_back(tokenizer.eos_id());
  // The end of turn: what the template writes after a reply, beyond the generation prompt.
  const std::string reply = "peft.cpp reply";
  PEFT_ASSIGN_OR_RETURN(std::string asked, render_chat_prompt(p, "peft.cpp question"));
  ojson exchange = messages_of(p, "peft.cpp question");
  exchange.push_back({{"role", "assistant"}, {"content", reply}});
  PEFT_ASSIGN_OR_RETURN(std::string answered, render_chat(p.tmpl, exchange, render_options(p.tmpl, false)));
  const size_t at = answered.find(reply, std::min(asked.size(), answered.size()));
  if (at != std::string::npos) {
    const std::string after = answered.substr(at + reply.size());
    const std::vector<int32_t> ids = encode_rendered(tokenizer, after);
    // Its first token, when the template ends turns with a token of its own (not text).
    if (!ids.empty() && tokenizer.is_special(ids[0]) &&
        std::find(p.end_ids.begin(), p.end_ids.end(), ids[0]) == p.end_ids.end())
      p.end_ids.push_back(ids[0]);
  }
  return p;
}

Result<std::string> render_chat_prompt(const ChatPrompt& p, const std::string& user) {
  return render_chat(p.tmpl, messages_of(p, user), render_options(p.tmpl, true));
}

}  // namespace peft
