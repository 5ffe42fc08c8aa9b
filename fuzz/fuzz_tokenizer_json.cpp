// libFuzzer target: tokenizer.json (models, pre-tokenizers, normalizers, decoders, added
// tokens), then encoding and decoding a few texts with what loads.
#include <filesystem>

#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = peft::fuzz::scratch() + "/tok";
  std::filesystem::create_directories(dir);
  const uint8_t* d = data;
  peft::fuzz::write_input("tok/tokenizer.json", d, size);
  auto tok = peft::load_tokenizer(dir);
  if (!tok.is_ok()) return 0;
  for (const char* text : {"Hello, world!", "  spaces\tand\nlines 123 ünïcödé 🙂", "<s>special</s>"}) {
    auto ids = (*tok)->encode(text, true);
    (void)(*tok)->decode(ids);
  }
  return 0;
}
