// libFuzzer target: peft serve's request bodies (completions, chat, load/unload_lora_adapter):
// any bytes parse into checked parameters or an error with an HTTP status, never a crash.
#include <variant>

#include "fuzz_util.h"
#include "serve/api_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(peft::fuzz::as_text(data, size));
  peft::serve::ParseLimits limits;
  for (bool chat : {false, true}) {
    auto r = peft::serve::parse_generation_request(body, chat, limits);
    // As the server writes it (serve/server.cpp dump_json): a message quoting invalid UTF-8
    // from a parse error is written with U+FFFD, never thrown.
    if (auto* e = std::get_if<peft::serve::ApiError>(&r))
      (void)e->body().dump(-1, ' ', false, peft::Json::error_handler_t::replace);
  }
  for (bool load : {false, true}) (void)peft::serve::parse_lora_adapter_request(body, load);
  return 0;
}
