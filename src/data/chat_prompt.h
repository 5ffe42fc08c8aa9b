// Prompting an instruction-tuned model the way it was tuned: a system message (optional) and
// the user's text rendered with its chat template and a generation prompt, as transformers'
// apply_chat_template(add_generation_prompt=True) does, and the ids that end its turn.
#pragma once
#include <string>
#include <vector>

#include "data/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace peft {

struct ChatPrompt {
  ChatTemplate tmpl;
  std::string system;            // empty: no system message
  std::vector<int32_t> end_ids;  // what ends the assistant's turn: EOS and the template's end of turn
};

// The template of `template_file` (when given) or of the model folder, with the tokenizer's
// special tokens; end_ids found by rendering a short exchange (the text after the assistant's
// reply, e.g. "<|im_end|>", "<|eot_id|>", "<end_of_turn>"). Errors name the template.
Result<ChatPrompt> load_chat_prompt(const std::string& model_dir, const std::string& template_file,
                                    const std::string& system, const Tokenizer& tokenizer);

// [system], {"role": "user", "content": user} rendered with the generation prompt.
Result<std::string> render_chat_prompt(const ChatPrompt& prompt, const std::string& user);

// ids of a rendered chat text, as apply_chat_template(tokenize=True): nothing added, the
// tokenizer's BOS/EOS strings written by the template become their ids.
std::vector<int32_t> encode_rendered(const Tokenizer& tokenizer, std::string_view text);

}  // namespace peft
