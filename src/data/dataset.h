// Training data files (LLM-Adapters/Alpaca JSON, JSONL, plain-text JSONL) loaded into records.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace peft {

// How a data file is read. Auto looks at the content: a first non-space character '['
// means one JSON array, anything else JSON Lines; each record is then a text record when
// it has "text" and an instruction record otherwise.
enum class DataFormat {
  Auto,
  AlpacaJson,   // [{"instruction", "input"?, "output"}, ...]  (LLM-Adapters' files)
  AlpacaJsonl,  // one {"instruction", "input"?, "output"} per line
  TextJsonl,    // one {"text"} per line
  Glue,         // a GLUE TSV (SST-2, CoLA, RTE, STS-B; glue_e2e.h), rows verbalised into instruction records
  E2e,          // E2E "MR||reference" lines (glue_e2e.h), one instruction record per line
  Webnlg,       // WebNLG 2017 JSON (webnlg_dart.h), one record per good lexicalisation
  Dart,         // DART JSON (webnlg_dart.h), one record per annotation
  Chat,         // {"messages": [{"role", "content"}, ...]} (OpenAI) or {"conversations": [{"from", "value"}]}
                // (ShareGPT), a JSON array or one per line; rendered with the model's chat template
};

// "auto", "alpaca" (or "json"), "alpaca-jsonl" (or "jsonl"), "text", "glue", "e2e", "webnlg", "dart", "chat";
// error names the
// flag value.
Result<DataFormat> parse_data_format(std::string_view name);
const char* data_format_name(DataFormat format);

enum class RecordKind { Instruction, Text, Chat };

// A span of one field marked with a modality other than text, so an input-centric method
// adapts its tokens with that modality's module. Parsed from a record's
// "segments" list (see segments.h); load fills in the defaults, so start/end are exact.
struct Segment {
  std::string modality;  // a name from the adapter's modality list (checked when training)
  std::string field;     // "instruction", "input", "output" (instruction records) or "text"
  int64_t start = 0;     // Unicode code points into the field, half-open [start, end)
  int64_t end = 0;
};

// One training example before templating. Extra fields (LLM-Adapters' "answer") are ignored.
struct Record {
  RecordKind kind = RecordKind::Instruction;
  std::string instruction;  // Instruction records
  std::string input;        // Instruction records; "" when absent or null
  std::string output;       // Instruction records
  std::string text;         // Text records: trained on as is
  // Chat records: the conversation as a JSON array of {"role", "content", ...} (roles system,
  // user, assistant, tool; ShareGPT's from/value already mapped), at least one assistant turn.
  std::string messages_json;
  std::vector<Segment> segments;  // sorted by field then start, non-overlapping; empty: all text
  std::string where;              // "data.jsonl: line 7": names the record in later (tokenization) errors
};

// Reads `path`. A record with "messages" or "conversations" is a chat record. Errors name the file and the record
// ("record 3", 0-based index into a JSON array) or line ("line 7", 1-based), the field, and what was expected and
// found, e.g. "data.jsonl: line 7: field 'output' must be a string, found integer 5". An empty file or one with zero
// records is "<path>: no records".
Result<std::vector<Record>> load_dataset(const std::string& path, DataFormat format = DataFormat::Auto);

// The same on text already in memory; `name` stands for the file in messages.
Result<std::vector<Record>> parse_dataset(std::string_view content, const std::string& name,
                                          DataFormat format = DataFormat::Auto);

}  // namespace peft
