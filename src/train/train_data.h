// Everything `peft train` reads before the first step: model, tokenizer, tokenized splits.
#pragma once
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "adapters/registry.h"
#include "data/glue_e2e.h"
#include "data/tokenize_example.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "train/train_config.h"

namespace peft {

struct TrainData {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  std::vector<Record> records;  // the data file, until tokenize_train_data turns it into train/val
  // A model with a task head trains on a GLUE file's rows (data/classifier_examples.h) instead.
  std::optional<VerbalFile> glue;
  std::vector<TokenizedExample> train, val;
  int64_t max_len = 0;    // longest example (≤ cutoff_len): the decoder's T
  int64_t truncated = 0;  // examples cut at cutoff_len
  int32_t pad_id = 0;     // LLM-Adapters pads with id 0
};

// Two steps because segment modality names resolve against the adapter, which needs the
// model: load_train_data reads the model, tokenizer and records; the trainer then creates
// the adapter and tokenize_train_data tokenizes and splits.
Result<TrainData> load_train_data(const TrainConfig& config);

// Tokenizes data.records into data.train / data.val (seeded split) and frees them.
// `modalities` are the adapter's modality names (input-centric methods; text first): records' segments
// become per-token modality ids, an unknown name is an error naming the record. Empty for
// methods without modalities: segments are then ignored, with one note on stderr.
Status tokenize_train_data(const TrainConfig& config, TrainData& data, std::span<const std::string> modalities);

// The method's adapter_config object: --config file first, then the flags on top.
Result<Json> build_method_config(const TrainConfig& config, const MethodDef& method);

}  // namespace peft
