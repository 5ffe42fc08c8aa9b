// Post-processor templates: how special tokens and token types go around one sequence or a pair.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_spec.h"

namespace peft {

// BERT's pair: [CLS] a [SEP] (type 0) b [SEP] (type 1).
std::vector<TemplatePiece> bert_pair_template(int32_t cls, int32_t sep);
// RoBERTa's pair: <s> a </s> </s> b </s>, all type 0 (the model has one token type).
std::vector<TemplatePiece> roberta_pair_template(int32_t cls, int32_t sep);

// The pair's ids, types and sequence ids per `pair_template`; an empty template puts
// prefix/suffix (the single-sequence template) around each, a as type 0 and b as type 1.
// add_special false: a then b, all type 0 (as transformers' slow tokenizers give them).
PairEncoding lay_out_pair(const std::vector<TemplatePiece>& pair_template, const std::vector<int32_t>& prefix,
                          const std::vector<int32_t>& suffix, std::span<const int32_t> a, std::span<const int32_t> b,
                          bool add_special);

}  // namespace peft
