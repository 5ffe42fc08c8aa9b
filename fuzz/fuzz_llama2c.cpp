// libFuzzer target: llama2.c checkpoints (legacy header and the version-1 export).
#include "fuzz_util.h"
#include "io/llama2c.h"
#include "io/llama2c_convert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = peft::fuzz::write_input("x.bin", data, size);
  auto ck = peft::read_llama2c(path);
  if (ck.is_ok()) (void)peft::llama2c_hf_config(ck->config, 1, 2);
  return 0;
}
