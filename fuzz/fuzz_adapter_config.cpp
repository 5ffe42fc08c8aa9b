// libFuzzer target: adapter_config.json through every method's config reader and factory,
// on a tiny real model (the shared llama fixture): ranks, sizes, targets, layers, ...
#include "adapters/registry.h"
#include "fuzz_util.h"
#include "io/json_file.h"

#ifndef PEFT_SHARED_DIR
#define PEFT_SHARED_DIR "../shared"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<peft::Model> model = [] {
    auto m = peft::load_model(std::string(PEFT_SHARED_DIR) + "/fixtures/llama/model");
    if (!m.is_ok()) __builtin_trap();  // the fuzzer needs its model
    return std::move(m).value();
  }();
  auto json = peft::parse_json_text(peft::fuzz::as_text(data, size), "adapter_config.json");
  if (!json.is_ok()) return 0;
  for (const peft::MethodDef* m : peft::all_methods()) (void)m->create(*model, *json, "adapter_config.json", 1);
  return 0;
}
