// GLUE TSV files (SST-2, CoLA, RTE, STS-B as download_glue_data.py writes them) and E2E
// "MR||reference" files (the E2E challenge's layout as NLG repositories ship it) read into labelled rows, and rows into
// the instruction records `peft train --data-format glue|e2e` trains on.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "data/dataset.h"
#include "data/verbalisers.h"

namespace peft {

// One labelled row.
struct VerbalRow {
  std::string input;      // verbal_input of the sentence column(s), or the meaning representation
  double label = 0;       // GLUE: class id (0/1) or similarity score
  std::string reference;  // E2E: the reference sentence, stripped
  int64_t line = 0;       // 1-based line in the file
};

struct VerbalFile {
  const VerbalTask* task = nullptr;
  std::vector<VerbalRow> rows;
};

// Reads a GLUE TSV; the task comes from the first line: a header with columns "sentence" and
// "label" (SST-2), "sentence1", "sentence2" and "label" (RTE) or "score" (STS-B), or four
// header-less columns whose second is 0/1 (CoLA). `expect` (a task name, or "" for any) must
// match it. Errors name the file and line: an unknown layout, a header without a label column
// (GLUE test files are unlabelled), a row with a different column count, an invalid label
// (sst2/cola 0 or 1, rte entailment or not_entailment, stsb a number in [0, 5]), no rows.
Result<VerbalFile> parse_glue_tsv(std::string_view content, const std::string& name, std::string_view expect = {});

// Reads E2E lines "MR||reference"; blank lines are skipped. Errors name the file and line.
Result<VerbalFile> parse_e2e_lines(std::string_view content, const std::string& name);

// The file at `path` read as task `task` (sst2, cola, rte, stsb: parse_glue_tsv; e2e).
Result<VerbalFile> load_verbal_file(std::string_view task, const std::string& path);

// The training records of a file: one per row, output = the verbalised label or the reference.
std::vector<Record> verbal_records(const VerbalFile& file, const std::string& name);
Result<std::vector<Record>> parse_glue_records(std::string_view content, const std::string& name);
Result<std::vector<Record>> parse_e2e_records(std::string_view content, const std::string& name);

}  // namespace peft
