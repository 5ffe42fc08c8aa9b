// libFuzzer target: the GGUF reader, its config synthesis, vocabulary and tensor decoding, and
// loading it as a model (bounded by the file: nothing may allocate by a count it claims).
#include "fuzz_util.h"
#include "io/gguf.h"
#include "io/gguf_vocab.h"
#include "model/gguf_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = peft::fuzz::write_input("x.gguf", data, size);
  auto f = peft::GgufFile::open(path);
  if (!f.is_ok()) return 0;
  (void)peft::gguf_hf_config(*f);
  (void)peft::read_gguf_vocab(*f);
  for (const peft::GgufTensorInfo& t : f->tensors())
    if (t.numel() <= (1 << 16)) (void)f->to_f32(t);
  (void)peft::load_gguf_model(path);
  return 0;
}
