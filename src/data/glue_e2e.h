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
  std::string input;           // verbal_input of the sentence column(s), or the meaning representation
  std::string text_a, text_b;  // GLUE: the sentence column(s) as in the file (text_b empty for one sentence)
  double label = 0;            // GLUE: class id (0/1) or similarity score
  std::string reference;       // E2E: the reference sentence, stripped
  int64_t line = 0;            // 1-based line in the file
};

struct VerbalFile {
  const VerbalTask* task = nullptr;
  std::vector<VerbalRow> rows;
};

// Reads a GLUE TSV (as download_glue_data.py writes them); the task comes from the first line:
//   SST-2  header sentence, label                     CoLA  four header-less columns, the 2nd 0/1
//   RTE    index, sentence1, sentence2, label (entailment / not_entailment)
//   WNLI   the same header with labels 0/1 (told apart by the first row's label)
//   STS-B  sentence1, sentence2 and score             MRPC  Quality, #1 ID, #2 ID, #1 String, #2 String
//   QQP    question1, question2, is_duplicate         QNLI  index, question, sentence, label
//   MNLI   sentence1, sentence2 and gold_label (entailment / neutral / contradiction)
// `expect` (a task name, or "" for any) must match it. Errors name the file and line: an
// unknown layout, a header without a label column (GLUE test files are unlabelled), a row with
// a different column count, a label outside the task's set (stsb: a number in [0, 5]), no rows.
Result<VerbalFile> parse_glue_tsv(std::string_view content, const std::string& name, std::string_view expect = {});

// Reads E2E lines "MR||reference"; blank lines are skipped. Errors name the file and line.
Result<VerbalFile> parse_e2e_lines(std::string_view content, const std::string& name);

// The file at `path` read as task `task` (GLUE tasks: parse_glue_tsv; e2e; webnlg, dart: webnlg_dart.h).
Result<VerbalFile> load_verbal_file(std::string_view task, const std::string& path);

// The training records of a file: one per row, output = the verbalised label or the reference.
std::vector<Record> verbal_records(const VerbalFile& file, const std::string& name);
Result<std::vector<Record>> parse_glue_records(std::string_view content, const std::string& name);
Result<std::vector<Record>> parse_e2e_records(std::string_view content, const std::string& name);

}  // namespace peft
