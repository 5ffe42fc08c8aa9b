// The BERT-family config and tensor names (modeling_bert.py / modeling_roberta.py, transformers 4.31).
#include "model/archs/bert_family.h"

namespace peft {

Result<ModelConfig> parse_bert_family(const BertFamily& family, const Json& j, const std::string& where) {
  ModelConfig c;
  c.arch = family.model_type;
  PEFT_ASSIGN_OR_RETURN(c.n_vocab, json_get_int(j, "vocab_size", where));
  PEFT_ASSIGN_OR_RETURN(c.n_embd, json_get_int(j, "hidden_size", where));
  PEFT_ASSIGN_OR_RETURN(c.n_layer, json_get_int(j, "num_hidden_layers", where));
  PEFT_ASSIGN_OR_RETURN(c.n_head, json_get_int(j, "num_attention_heads", where));
  c.n_head_kv = c.n_head;
  PEFT_ASSIGN_OR_RETURN(c.n_ff, json_get_int(j, "intermediate_size", where));
  PEFT_ASSIGN_OR_RETURN(int64_t max_pos, json_get_int_or(j, "max_position_embeddings", 512, where));
  PEFT_ASSIGN_OR_RETURN(c.n_token_types, json_get_int_or(j, "type_vocab_size", 2, where));
  if (c.n_token_types < 0) return Status::errorf("{}: type_vocab_size must not be negative", where);
  PEFT_ASSIGN_OR_RETURN(double eps, json_get_float_or(j, "layer_norm_eps", 1e-12, where));
  c.norm_eps = float(eps);
  PEFT_ASSIGN_OR_RETURN(std::string act, json_get_string_or(j, "hidden_act", "gelu", where));
  auto activation = activation_from_hf_name(act);
  if (!activation) return Status::errorf("{}: unknown hidden_act '{}'", where, act);
  // Relative position embeddings (relative_key, relative_key_query) add terms to the scores.
  PEFT_ASSIGN_OR_RETURN(std::string pos_type, json_get_string_or(j, "position_embedding_type", "absolute", where));
  if (pos_type != "absolute")
    return Status::errorf("{}: position_embedding_type '{}' is not supported (only 'absolute')", where, pos_type);
  PEFT_ASSIGN_OR_RETURN(bool is_decoder, json_get_bool_or(j, "is_decoder", false, where));
  PEFT_ASSIGN_OR_RETURN(bool cross, json_get_bool_or(j, "add_cross_attention", false, where));
  if (is_decoder || cross)
    return Status::errorf("{}: {} as a decoder (is_decoder / add_cross_attention) is not supported", where,
                          family.model_type);
  PEFT_TRY(read_encoder_special_ids(c, j, where));
  const int64_t pad = c.pad_id;
  make_bert_style_encoder(c, *activation);
  BlockSpec& b = c.block;
  b.position = PositionKind::Learned;
  if (family.pad_aware_positions) {
    // Positions of real tokens start at table row pad_id + 1; max_position_embeddings counts
    // the rows up to it too.
    if (pad < 0 || pad + 1 >= max_pos)
      return Status::errorf("{}: pad_token_id {} leaves no position rows of {}", where, pad, max_pos);
    c.pad_aware_positions = true;
    b.learned_pos_offset = pad + 1;
    c.n_ctx = max_pos - (pad + 1);
  } else {
    c.n_ctx = max_pos;
  }
  PEFT_TRY(validate_config(c, where));
  return c;
}

Status read_encoder_special_ids(ModelConfig& c, const Json& j, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(int64_t pad, json_get_int_or(j, "pad_token_id", 0, where));
  PEFT_ASSIGN_OR_RETURN(int64_t bos, json_get_int_or(j, "bos_token_id", -1, where));
  PEFT_ASSIGN_OR_RETURN(int64_t eos, json_get_int_or(j, "eos_token_id", -1, where));
  c.pad_id = int32_t(pad);
  c.bos_id = int32_t(bos);
  c.eos_id = int32_t(eos);
  return Status::ok();
}

void make_bert_style_encoder(ModelConfig& c, Activation act) {
  c.causal = false;
  c.final_norm = false;
  c.embd_norm = true;
  BlockSpec& b = c.block;
  b.norm = NormKind::LayerNorm;
  b.norm_bias = true;
  b.post_norm = true;
  b.act = act;
  b.gated_mlp = false;
  b.qkv = QkvLayout::Separate;
  b.qkv_bias = b.o_bias = b.mlp_bias = true;
  b.tied_embeddings = false;
}

TensorNames bert_family_names(const BertFamily& family) {
  return bert_style_names(family.prefix, "query", "key", "value");
}

TensorNames bert_style_names(const std::string& prefix, const std::string& q, const std::string& k,
                             const std::string& v) {
  // Task checkpoints nest the encoder under the prefix; a bare BertModel's names lack it, and
  // the binder tries the name without its first component.
  const std::string emb = prefix + "embeddings.", layer = prefix + "encoder.layer.{}.";
  TensorNames n;
  n.tok_embd = emb + "word_embeddings.weight";
  n.pos_embd = emb + "position_embeddings.weight";
  n.type_embd = emb + "token_type_embeddings.weight";
  n.embd_norm_w = emb + "LayerNorm.weight";
  n.embd_norm_b = emb + "LayerNorm.bias";
  n.q_w = weight_of(layer + "attention.self." + q);
  n.q_b = bias_of(layer + "attention.self." + q);
  n.k_w = weight_of(layer + "attention.self." + k);
  n.k_b = bias_of(layer + "attention.self." + k);
  n.v_w = weight_of(layer + "attention.self." + v);
  n.v_b = bias_of(layer + "attention.self." + v);
  n.o_w = weight_of(layer + "attention.output.dense");
  n.o_b = bias_of(layer + "attention.output.dense");
  // Post-LN: attn_norm follows the attention's residual add, ffn_norm the MLP's.
  n.attn_norm_w = weight_of(layer + "attention.output.LayerNorm");
  n.attn_norm_b = bias_of(layer + "attention.output.LayerNorm");
  n.up_w = weight_of(layer + "intermediate.dense");
  n.up_b = bias_of(layer + "intermediate.dense");
  n.down_w = weight_of(layer + "output.dense");
  n.down_b = bias_of(layer + "output.dense");
  n.ffn_norm_w = weight_of(layer + "output.LayerNorm");
  n.ffn_norm_b = bias_of(layer + "output.LayerNorm");
  return n;
}

std::vector<HeadLayerSpec> bert_family_head(const BertFamily& family, TaskType task, const ModelConfig& c,
                                            int64_t num_labels) {
  const int64_t C = c.n_embd;
  if (task == TaskType::TokenCls) return {{"classifier", num_labels, C, Activation::Identity, true}};
  if (family.classifier_has_dense)
    return {{"classifier.dense", C, C, Activation::Tanh, true},
            {"classifier.out_proj", num_labels, C, Activation::Identity, true}};
  return {{std::string(family.prefix) + "pooler.dense", C, C, Activation::Tanh, false},
          {"classifier", num_labels, C, Activation::Identity, true}};
}

}  // namespace peft
