// libFuzzer target: the safetensors reader (header JSON, dtypes, shapes, offsets, coverage).
#include "fuzz_util.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = peft::fuzz::write_input("x.safetensors", data, size);
  auto f = peft::SafetensorsFile::open(path);
  if (!f.is_ok()) return 0;
  volatile uint64_t sum = 0;  // touch every tensor's first and last byte: the views must be in bounds
  for (const std::string& name : f->names()) {
    const peft::Tensor* t = f->find(name);
    if (t->nbytes() == 0) continue;
    const auto* p = static_cast<const unsigned char*>(t->data);
    sum = sum + p[0] + p[t->nbytes() - 1];
  }
  return 0;
}
