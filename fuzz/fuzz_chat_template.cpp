// libFuzzer target: a chat template (the Jinja subset: lexer, parser, interpreter) parsed and
// rendered on a small conversation with tools. Every input must render or fail with a
// message: no crash, no hang (loop and size bounds), no unbounded recursion (depth bounds).
#include <string>

#include "data/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string source(reinterpret_cast<const char*>(data), size);
  auto tmpl = peft::parse_chat_template(source, "fuzz.jinja");
  if (!tmpl.is_ok()) return 0;
  static const nlohmann::ordered_json messages = nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Héllo <tool_response>x</tool_response>"},
    {"role": "assistant", "content": "<think>\nhm\n</think>\n\nHi!",
     "tool_calls": [{"id": "abcdefghi", "function": {"name": "f", "arguments": {"a": [1, 2.5, null]}}}]},
    {"role": "tool", "content": "42", "tool_call_id": "abcdefghi"}
  ])");
  peft::ChatRenderOptions o;
  o.add_generation_prompt = size % 2 == 0;
  o.bos_token = "<s>";
  o.eos_token = "</s>";
  o.today = "2026-01-15";
  o.extra["tools"] = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {"name": "f"}}])");
  (void)peft::render_chat(*tmpl, messages, o);
  return 0;
}
