// DeBERTa-v2 / DeBERTa-v3 (model_type "deberta-v2"; modeling_deberta_v2.py, transformers 4.31):
// BERT's post-LN encoder with disentangled attention (RelativeAttention) over shared
// relative-position embeddings, usually without absolute positions or token types, and
// ContextPooler (dense + pooler_hidden_act on the first token) under its sequence classifier.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "model/archs/bert_family.h"

namespace peft {

namespace {

// "p2c|c2p" → {"p2c", "c2p"}: lower-cased, trimmed, empty parts dropped.
std::vector<std::string> split_bars(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('|', start);
    if (end == std::string::npos) end = s.size();
    std::string part = s.substr(start, end - start);
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    if (!part.empty()) parts.push_back(part);
    start = end + 1;
  }
  return parts;
}

// pos_att_type: a list, or the "p2c|c2p" string older configs hold (DebertaV2Config splits it).
Status read_pos_att_type(const Json& j, RelativeAttention& rel, const std::string& where) {
  if (!j.contains("pos_att_type") || j["pos_att_type"].is_null()) return Status::ok();
  std::vector<std::string> kinds;
  const Json& v = j["pos_att_type"];
  if (v.is_string()) {
    kinds = split_bars(v.get<std::string>());
  } else if (v.is_array()) {
    for (const Json& e : v) {
      if (!e.is_string()) return Status::errorf("{}: pos_att_type must list strings, found {}", where, e.dump());
      kinds.push_back(e.get<std::string>());
    }
  } else {
    return Status::errorf("{}: pos_att_type must be a list or a string, found {}", where, v.dump());
  }
  for (const std::string& k : kinds) {
    if (k == "c2p")
      rel.c2p = true;
    else if (k == "p2c")
      rel.p2c = true;
    else
      return Status::errorf("{}: pos_att_type '{}' is not supported (only c2p and p2c)", where, k);
  }
  return Status::ok();
}

Result<ModelConfig> parse_deberta_v2(const Json& j, const std::string& where) {
  ModelConfig c;
  c.arch = "deberta-v2";
  PEFT_ASSIGN_OR_RETURN(c.n_vocab, json_get_int(j, "vocab_size", where));
  PEFT_ASSIGN_OR_RETURN(c.n_embd, json_get_int(j, "hidden_size", where));
  PEFT_ASSIGN_OR_RETURN(c.n_layer, json_get_int(j, "num_hidden_layers", where));
  PEFT_ASSIGN_OR_RETURN(c.n_head, json_get_int(j, "num_attention_heads", where));
  c.n_head_kv = c.n_head;
  PEFT_ASSIGN_OR_RETURN(c.head_dim, json_get_int_or(j, "attention_head_size", 0, where));
  PEFT_ASSIGN_OR_RETURN(c.n_ff, json_get_int(j, "intermediate_size", where));
  PEFT_ASSIGN_OR_RETURN(int64_t max_pos, json_get_int_or(j, "max_position_embeddings", 512, where));
  c.n_ctx = max_pos;
  PEFT_ASSIGN_OR_RETURN(c.n_token_types, json_get_int_or(j, "type_vocab_size", 0, where));
  if (c.n_token_types < 0) return Status::errorf("{}: type_vocab_size must not be negative", where);
  PEFT_ASSIGN_OR_RETURN(double eps, json_get_float_or(j, "layer_norm_eps", 1e-7, where));
  c.norm_eps = float(eps);
  PEFT_ASSIGN_OR_RETURN(std::string act, json_get_string_or(j, "hidden_act", "gelu", where));
  const auto activation = activation_from_hf_name(act);
  if (!activation) return Status::errorf("{}: unknown hidden_act '{}'", where, act);
  PEFT_ASSIGN_OR_RETURN(std::string pooler_act, json_get_string_or(j, "pooler_hidden_act", "gelu", where));
  const auto pooler = activation_from_hf_name(pooler_act);
  if (!pooler) return Status::errorf("{}: unknown pooler_hidden_act '{}'", where, pooler_act);
  c.pooler_act = *pooler;
  PEFT_ASSIGN_OR_RETURN(int64_t pooler_size, json_get_int_or(j, "pooler_hidden_size", c.n_embd, where));
  if (pooler_size != c.n_embd)
    return Status::errorf("{}: pooler_hidden_size {} differs from hidden_size {} (the classifier reads hidden_size)",
                          where, pooler_size, c.n_embd);
  // What this engine does not build: refused by name rather than computed differently.
  PEFT_ASSIGN_OR_RETURN(int64_t conv, json_get_int_or(j, "conv_kernel_size", 0, where));
  if (conv > 0)
    return Status::errorf(
        "{}: conv_kernel_size {} (DeBERTa-v2-xlarge's convolution after the first layer) is not supported", where,
        conv);
  PEFT_ASSIGN_OR_RETURN(int64_t embedding_size, json_get_int_or(j, "embedding_size", c.n_embd, where));
  if (embedding_size != c.n_embd)
    return Status::errorf("{}: embedding_size {} differs from hidden_size {} (embed_proj) and is not supported", where,
                          embedding_size, c.n_embd);
  PEFT_TRY(read_encoder_special_ids(c, j, where));

  // Disentangled attention; its scale counts the position terms even when relative
  // attention is off, as DisentangledSelfAttention does.
  RelativeAttention& rel = c.rel;
  rel.on = true;
  PEFT_TRY(read_pos_att_type(j, rel, where));
  PEFT_ASSIGN_OR_RETURN(bool relative, json_get_bool_or(j, "relative_attention", false, where));
  if (relative) {
    PEFT_ASSIGN_OR_RETURN(int64_t max_rel, json_get_int_or(j, "max_relative_positions", -1, where));
    if (max_rel < 1) max_rel = max_pos;
    PEFT_ASSIGN_OR_RETURN(int64_t buckets, json_get_int_or(j, "position_buckets", -1, where));
    rel.buckets = std::max<int64_t>(buckets, 0);
    rel.max_position = max_rel;
    rel.span = rel.buckets > 0 ? rel.buckets : max_rel;
    if (rel.buckets == 1)
      return Status::errorf("{}: position_buckets 1 leaves no bucket for distance 0 (use ≥ 2)", where);
    PEFT_ASSIGN_OR_RETURN(bool share, json_get_bool_or(j, "share_att_key", false, where));
    if (!share && rel.rows() > 0)
      return Status::errorf(
          "{}: share_att_key false (separate pos_key_proj / pos_query_proj) is not supported; DeBERTa-v3 "
          "shares the keys",
          where);
    PEFT_ASSIGN_OR_RETURN(std::string norm, json_get_string_or(j, "norm_rel_ebd", "none", where));
    for (const std::string& part : split_bars(norm)) {
      if (part == "layer_norm")
        rel.norm = true;
      else if (part != "none")
        return Status::errorf("{}: norm_rel_ebd '{}' is not supported (only 'layer_norm' or 'none')", where, norm);
    }
  }
  make_bert_style_encoder(c, *activation);
  c.pad_rows_zero = true;
  c.kv_prefix = false;
  PEFT_ASSIGN_OR_RETURN(bool absolute, json_get_bool_or(j, "position_biased_input", true, where));
  c.block.position = absolute ? PositionKind::Learned : PositionKind::None;
  PEFT_TRY(validate_config(c, where));
  c.attn_scale = 1.0f / std::sqrt(float(c.head_dim * (1 + rel.c2p + rel.p2c)));
  return c;
}

TensorNames deberta_v2_names(const ModelConfig&) {
  TensorNames n = bert_style_names("deberta.", "query_proj", "key_proj", "value_proj");
  n.rel_embd = "deberta.encoder.rel_embeddings.weight";
  n.rel_norm_w = "deberta.encoder.LayerNorm.weight";
  n.rel_norm_b = "deberta.encoder.LayerNorm.bias";
  return n;
}

// ContextPooler (frozen base: PEFT's modules_to_save is the "classifier") then the classifier.
std::vector<HeadLayerSpec> deberta_v2_head(TaskType task, const ModelConfig& c, int64_t num_labels) {
  const int64_t C = c.n_embd;
  if (task == TaskType::TokenCls) return {{"classifier", num_labels, C, Activation::Identity, true}};
  return {{"pooler.dense", C, C, c.pooler_act, false}, {"classifier", num_labels, C, Activation::Identity, true}};
}

// PEFT 0.6.2's tables for "deberta-v2" (utils/other.py); the series/parallel placements by
// the same module names as BERT's.
constexpr DefaultTargets kDebertaV2Targets{.query_value = "query_proj,value_proj",
                                           .scaled = "key_proj,value_proj,output.dense",
                                           .scaled_input = "output.dense",
                                           .mlp = "intermediate.dense,output.dense",
                                           .mlp_output = "output.dense",
                                           .attention_inputs = "query_proj,key_proj,value_proj",
                                           .block_outputs = "attention.output.dense,output.dense"};

}  // namespace

extern const ArchDef kDebertaV2Arch{"deberta-v2", parse_deberta_v2, deberta_v2_names, kDebertaV2Targets, nullptr,
                                    {},           deberta_v2_head};

}  // namespace peft
