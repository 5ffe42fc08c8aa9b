// BERT and RoBERTa share one encoder (RobertaConfig is a BertConfig): word + position +
// token-type embeddings and a LayerNorm, post-LN blocks with biased projections and a GELU
// MLP, bidirectional attention, no final norm and no LM head of the engine's.
#pragma once
#include <string>

#include "model/arch.h"

namespace peft {

struct BertFamily {
  const char* model_type;    // "bert" / "roberta"
  const char* prefix;        // the base model's module in task checkpoints: "bert." / "roberta."
  bool pad_aware_positions;  // RoBERTa: positions start after the padding id's row
  // The sequence classifier: BERT's pooler (dense + tanh, part of the base) then a linear
  // "classifier"; RoBERTa's "classifier" module is itself dense + tanh + out_proj.
  bool classifier_has_dense;
};

// What every BERT-style encoder shares: bidirectional, post-LN LayerNorm blocks with biased
// projections and an ungated MLP, an embedding norm, no final norm, no LM head.
void make_bert_style_encoder(ModelConfig& c, Activation act);
// pad_token_id (default 0), bos_token_id and eos_token_id (default none) into `c`.
Status read_encoder_special_ids(ModelConfig& c, const Json& j, const std::string& where);
Result<ModelConfig> parse_bert_family(const BertFamily& family, const Json& j, const std::string& where);
TensorNames bert_family_names(const BertFamily& family);
// A BERT-style encoder's names under `prefix` ("bert.", "deberta."): embeddings.*, and per
// layer attention.self.<q|k|v>, attention.output.{dense,LayerNorm}, intermediate.dense,
// output.{dense,LayerNorm}. DeBERTa's layers are named so too, with its own q/k/v names.
TensorNames bert_style_names(const std::string& prefix, const std::string& q, const std::string& k,
                             const std::string& v);
std::vector<HeadLayerSpec> bert_family_head(const BertFamily& family, TaskType task, const ModelConfig& c,
                                            int64_t num_labels);

// Hugging Face PEFT's and LLM-Adapters' target tables for BERT-style module names.
inline constexpr DefaultTargets kBertFamilyTargets{.query_value = "query,value",
                                                   .scaled = "key,value,output.dense",
                                                   .scaled_input = "output.dense",
                                                   .mlp = "intermediate.dense,output.dense",
                                                   .mlp_output = "output.dense",
                                                   .attention_inputs = "query,key,value",
                                                   .block_outputs = "attention.output.dense,output.dense"};

}  // namespace peft
