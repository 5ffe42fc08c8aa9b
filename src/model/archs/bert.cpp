// BERT: the BERT-family encoder with positions 0, 1, 2, ... (bert_family.h).
#include "model/archs/bert_family.h"

namespace peft {

namespace {
constexpr BertFamily kBert{"bert", "bert.", /*pad_aware_positions=*/false, /*classifier_has_dense=*/false};
Result<ModelConfig> parse_bert(const Json& j, const std::string& where) { return parse_bert_family(kBert, j, where); }
TensorNames bert_names(const ModelConfig&) { return bert_family_names(kBert); }
std::vector<HeadLayerSpec> bert_head(TaskType task, const ModelConfig& c, int64_t num_labels) {
  return bert_family_head(kBert, task, c, num_labels);
}
}  // namespace

extern const ArchDef kBertArch{"bert", parse_bert, bert_names, kBertFamilyTargets, nullptr, {}, bert_head};

}  // namespace peft
