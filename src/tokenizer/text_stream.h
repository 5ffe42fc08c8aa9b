// Streaming detokenization: the text of a growing id sequence, handed out in pieces that are
// never taken back.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace peft {

// Decoding token by token is wrong for pieces that depend on their neighbours (SentencePiece's
// leading space, a character split over byte tokens); decoding the whole sequence each time
// and emitting the growth is right, except that a trailing incomplete UTF-8 character decodes
// to U+FFFD until its last byte arrives. Those are held back until then (or until finish()),
// so the concatenation of all pieces is exactly decode(all ids).
class TextStream {
 public:
  // `prefix`: ids already shown (the prompt); their text is not emitted.
  TextStream(const Tokenizer& tokenizer, std::vector<int32_t> prefix);
  // The new text after appending `id`; may be empty.
  std::string push(int32_t id);
  // Whatever is still held back.
  std::string finish();

 private:
  const Tokenizer& tok_;
  std::vector<int32_t> ids_;
  std::string emitted_;  // decode(ids_) up to what has been handed out, prompt included
};

}  // namespace peft
