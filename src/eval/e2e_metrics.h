// The E2E NLG challenge's official metrics as its scorer (tuetschek/e2e-metrics measure_scores.py,
// run with -p) computes them: BLEU and NIST by its pymteval port of mteval-v13a, ROUGE-L and CIDEr
// by its copy of pycocoevalcap, each after the tokenisation that scorer applies.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace peft {

// Corpus scores of one system output file, on measure_scores.py's scales.
// METEOR, the challenge's fifth metric, is not computed: pycocoevalcap runs the METEOR 1.5 jar
// (`-l en -norm`, patched to aggregate statistics over the corpus), whose alignments use its own
// English resources (Snowball stemmer, WordNet synonym sets, a large paraphrase table) and tuned
// parameters. None of them ships here, and an exact-match-only METEOR gives other numbers, so a
// value under that name would not be the challenge's METEOR.
struct E2eScores {
  double bleu = 0;     // pymteval BLEU-4, 0..1 (the script prints it unscaled)
  double nist = 0;     // pymteval NIST-5 (information-weighted, base-2 logarithms)
  double rouge_l = 0;  // pycocoevalcap ROUGE-L (F, beta 1.2), mean over MRs, 0..1
  double cider = 0;    // pycocoevalcap CIDEr (the CIDEr-D variant), mean over MRs, 0..10
};

// --- measure_scores.py's text inputs (read_lines) -----------------------------------------------
// Both are read as its read_lines does: UTF-8, lines split where Python's str.splitlines splits
// (\n, \r\n, \r, \v, \f, \x1c-\x1e, U+0085, U+2028, U+2029), each line stripped of Python whitespace.
// Errors name the file and line: bytes that are not UTF-8, and the cases below.

// System outputs, one a line; an empty line is an empty output. Errors: no lines at all.
Result<std::vector<std::string>> parse_e2e_outputs(std::string_view content, const std::string& name);

// References: those of one MR on consecutive lines, one blank line between MRs. A file with no
// blank line holds one reference per MR (one MR a line), as measure_scores.py reads it. Blank
// lines at the end are ignored. Errors: a blank line at the start or a second blank line in a row
// (an MR without references, on which the script fails), no references at all.
Result<std::vector<std::vector<std::string>>> parse_e2e_references(std::string_view content, const std::string& name);

// --- scoring -------------------------------------------------------------------------------------
// The four scores of outputs[i] against refs[i] (untokenised text, as in the files). Errors: no
// outputs, a count mismatch (both counts), an MR without references, text that is not UTF-8.
Result<E2eScores> e2e_scores(const std::vector<std::string>& outputs,
                             const std::vector<std::vector<std::string>>& refs);

// Reads both files (parse_e2e_outputs, parse_e2e_references) and scores them. Errors: unreadable or
// malformed files, and different counts ("<outputs>: N outputs, but <references> has M MRs").
Result<E2eScores> score_e2e_files(const std::string& outputs_path, const std::string& references_path);

// --- the pieces, for tests -----------------------------------------------------------------------
using TokenList = std::vector<std::string>;

// pymteval's NGramScore.tokenize (mteval-v13a's default tokenisation, case kept): SGML entities
// decoded, ASCII punctuation other than ' - . , split off, '.' and ',' split unless between digits,
// '-' split after a digit. An empty text gives one empty token, as in Python.
TokenList mteval_tokenize(std::string_view text);

// pymteval BLEUScore (4-grams, case-insensitive, no smoothing) and NISTScore (5-grams) over the
// corpus: hyps[i] against refs[i], tokens as mteval_tokenize gives them.
double pymteval_bleu(const std::vector<TokenList>& hyps, const std::vector<std::vector<TokenList>>& refs);
double pymteval_nist(const std::vector<TokenList>& hyps, const std::vector<std::vector<TokenList>>& refs);

// pycocoevalcap's PTBTokenizer wrapper over a stand-in for Stanford PTBTokenizer 3.4.1 (run as
// `-preserveLines -lowerCase` on all captions at once, one a line): per caption its lowercased PTB
// tokens, the wrapper's punctuation list removed, joined by single spaces.
std::vector<std::string> coco_ptb_tokenize(const std::vector<std::string>& captions);

// pycocoevalcap ROUGE-L and CIDEr-D per MR, on captions as coco_ptb_tokenize gives them. CIDEr's
// document frequencies come from all MRs' references, so the per-MR values depend on the corpus.
std::vector<double> coco_rouge_l(const std::vector<std::string>& hyps,
                                 const std::vector<std::vector<std::string>>& refs);
std::vector<double> coco_cider(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs);

}  // namespace peft
