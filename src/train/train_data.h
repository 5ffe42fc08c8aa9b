// Everything `peft train` reads before the first step: model, tokenizer, tokenized splits.
#pragma once
#include <memory>
#include <vector>

#include "adapters/registry.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "train/tokenize_example.h"
#include "train/train_config.h"

namespace peft {

struct TrainData {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  std::vector<TokenizedExample> train, val;
  int64_t max_len = 0;    // longest example (≤ cutoff_len): the decoder's T
  int64_t truncated = 0;  // examples cut at cutoff_len
  int32_t pad_id = 0;     // LLM-Adapters pads with id 0
};

Result<TrainData> prepare_train_data(const TrainConfig& config);

// The method's adapter_config object: --config file first, then the flags on top.
Result<Json> build_method_config(const TrainConfig& config, const MethodDef& method);

}  // namespace peft
