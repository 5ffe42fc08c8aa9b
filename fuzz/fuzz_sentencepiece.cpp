// libFuzzer target: SentencePiece .model files (the protobuf goes through libsentencepiece;
// what we read of it — pieces, scores, types, specials — through our wrapper).
#include "fuzz_util.h"
#include "tokenizer/sentencepiece_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = peft::fuzz::write_input("x.model", data, size);
  auto tok = peft::SentencePieceTokenizer::load(path);
  if (!tok.is_ok()) return 0;
  for (const char* text : {"Hello, world!", "  spaces 123 ünïcödé"}) {
    auto ids = (*tok)->encode(text, true);
    (void)(*tok)->decode(ids);
  }
  return 0;
}
