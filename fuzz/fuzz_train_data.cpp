// libFuzzer target: training data in every format (JSON array, JSON Lines, text, chat, GLUE
// TSV, E2E lines), records with segments included; chat records are also rendered with a
// ChatML template and their assistant turns located.
#include "data/dataset.h"
#include "data/glue_e2e.h"
#include "data/tokenize_chat.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = peft::fuzz::as_text(data, size);
  for (const char* format : {"auto", "alpaca", "alpaca-jsonl", "text", "chat"}) {
    auto f = peft::parse_data_format(format);
    if (!f.is_ok()) continue;
    auto records = peft::parse_dataset(text, "data", *f);
    if (!records.is_ok() || *f != peft::DataFormat::Chat) continue;
    static const auto chatml = peft::parse_chat_template(
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
        "chatml");
    for (const peft::Record& r : *records) (void)peft::render_chat_record(chatml.value(), r, {});
  }
  (void)peft::parse_glue_records(text, "data.tsv");
  (void)peft::parse_e2e_records(text, "data.txt");
  return 0;
}
