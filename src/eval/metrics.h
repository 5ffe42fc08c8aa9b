// GLUE and E2E metrics: accuracy, Matthews correlation, Pearson/Spearman, BLEU-4, ROUGE-L.
#pragma once
#include <string>
#include <vector>

namespace peft {

// Fraction of equal pairs (0 for empty input).
double accuracy(const std::vector<int>& pred, const std::vector<int>& label);
// Matthews correlation (CoLA), as sklearn's matthews_corrcoef: binary for classes 0/1, the
// multiclass form when other ids occur (-1: unreadable output); 0 when a margin is empty.
double matthews_corr(const std::vector<int>& pred, const std::vector<int>& label);
// Pearson correlation (STS-B); 0 when either side is constant.
double pearson_corr(const std::vector<double>& x, const std::vector<double>& y);
// Spearman: Pearson of average ranks (ties share their mean rank, as scipy).
double spearman_corr(const std::vector<double>& x, const std::vector<double>& y);

// Whitespace tokens of `s`.
std::vector<std::string> split_words(const std::string& s);

// Corpus BLEU-4 (Papineni et al., as NLTK corpus_bleu without smoothing): clipped n-gram
// counts against each hypothesis's references (max count over references), brevity penalty
// with the closest reference length (ties → shorter). Tokens are whitespace-split. 0..1.
double bleu4(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs);
// ROUGE-L as the E2E challenge's pycocoevalcap: per hypothesis the best LCS precision and
// recall over its references, F with beta = 1.2, averaged over hypotheses. 0..1.
double rouge_l(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs);

}  // namespace peft
