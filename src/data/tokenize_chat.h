// Chat records → ids and labels: the conversation rendered with the model's chat template,
// loss on the assistant turns (their text and the template's end-of-turn after it).
#pragma once
#include <span>

#include "data/chat_template.h"
#include "data/dataset.h"
#include "data/tokenize_example.h"
#include "tokenizer/tokenizer.h"

namespace peft {

// The rendered conversation, with the byte spans [begin, end) that are assistant turns: turn i
// is what rendering messages[:i+1] adds to rendering messages[:i] with a generation prompt (so
// "<|im_start|>assistant\n" is the prompt's, "Hi!<|im_end|>\n" the turn's), found in the whole
// rendering in order. Errors name the record.
struct RenderedChat {
  std::string text;
  std::vector<std::pair<size_t, size_t>> assistant_spans;
};
Result<RenderedChat> render_chat_record(const ChatTemplate& tmpl, const Record& record,
                                        const ChatRenderOptions& options);

// Tokenizes the rendering as transformers' apply_chat_template(tokenize=True) does: no
// special tokens added besides what the template writes (its bos_token / eos_token text become
// those ids), truncated to cutoff_len. Labels: the assistant spans' ids, kIgnoreLabel elsewhere
// unless train_on_inputs. Tokens are cut at span boundaries (each piece encoded on its own).
Result<TokenizedExample> tokenize_chat_record(const Tokenizer& tokenizer, const ChatTemplate& tmpl,
                                              const Record& record, const ChatRenderOptions& options,
                                              int64_t cutoff_len, bool train_on_inputs);

}  // namespace peft
