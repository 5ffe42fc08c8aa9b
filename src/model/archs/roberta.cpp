// RoBERTa: the BERT-family encoder whose positions skip the padding id (bert_family.h).
#include "model/archs/bert_family.h"

namespace peft {

namespace {
constexpr BertFamily kRoberta{"roberta", "roberta.", /*pad_aware_positions=*/true, /*classifier_has_dense=*/true};
Result<ModelConfig> parse_roberta(const Json& j, const std::string& where) {
  return parse_bert_family(kRoberta, j, where);
}
TensorNames roberta_names(const ModelConfig&) { return bert_family_names(kRoberta); }
std::vector<HeadLayerSpec> roberta_head(TaskType task, const ModelConfig& c, int64_t num_labels) {
  return bert_family_head(kRoberta, task, c, num_labels);
}
}  // namespace

extern const ArchDef kRobertaArch{"roberta", parse_roberta, roberta_names, kBertFamilyTargets, nullptr,
                                  {},        roberta_head};

}  // namespace peft
