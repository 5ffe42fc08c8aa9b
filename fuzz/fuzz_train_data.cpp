// libFuzzer target: training data in every format (JSON array, JSON Lines, text, GLUE TSV,
// E2E lines), records with segments included.
#include "data/dataset.h"
#include "data/glue_e2e.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = peft::fuzz::as_text(data, size);
  for (const char* format : {"auto", "alpaca", "alpaca-jsonl", "text"}) {
    auto f = peft::parse_data_format(format);
    if (f.is_ok()) (void)peft::parse_dataset(text, "data", *f);
  }
  (void)peft::parse_glue_records(text, "data.tsv");
  (void)peft::parse_e2e_records(text, "data.txt");
  return 0;
}
