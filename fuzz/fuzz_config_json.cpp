// libFuzzer target: config.json through every architecture's parser and the math-key audit
// (keys, types, ranges, RoPE scaling of every kind).
#include "fuzz_util.h"
#include "io/json_file.h"
#include "model/arch.h"
#include "model/math_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto json = peft::parse_json_text(peft::fuzz::as_text(data, size), "config.json");
  if (!json.is_ok()) return 0;
  for (const peft::ArchDef* a : peft::all_archs()) {  // every parser, whatever model_type says
    auto c = peft::parse_model_config(*a, *json, "config.json");
    if (c.is_ok()) (void)a->tensor_names(*c);
  }
  return 0;
}
