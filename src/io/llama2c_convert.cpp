// llama2.c -> Hugging Face LLaMA folder: tensors from read_llama2c, configs from the header + tokenizer.
#include "io/llama2c_convert.h"

#include "io/atomic_output.h"
#include "io/safetensors.h"

namespace peft {
namespace {

// The transformers release whose LlamaTokenizer/LlamaForCausalLM behaviour we match.
constexpr const char* kTransformersVersion = "4.31.0";

Json id_or_null(int32_t id) { return id >= 0 ? Json(id) : Json(nullptr); }
Json piece_or_null(const std::string& piece) { return piece.empty() ? Json(nullptr) : Json(piece); }

Json tokenizer_config(const SentencePieceSummary& tok, int32_t model_max_length) {
  // legacy=true: sentencepiece's own handling of the dummy prefix, which is what the
  // model was trained with; clean_up_tokenization_spaces=false keeps decode exact.
  return Json{
      {"tokenizer_class", "LlamaTokenizer"},
      {"add_bos_token", true},
      {"add_eos_token", false},
      {"bos_token", piece_or_null(tok.bos_token)},
      {"eos_token", piece_or_null(tok.eos_token)},
      {"unk_token", piece_or_null(tok.unk_token)},
      {"pad_token", piece_or_null(tok.pad_token)},
      {"model_max_length", model_max_length},
      {"clean_up_tokenization_spaces", false},
      {"legacy", true},
      {"sp_model_kwargs", Json::object()},
  };
}

Json special_tokens_map(const SentencePieceSummary& tok) {
  Json m = Json::object();
  if (!tok.bos_token.empty()) m["bos_token"] = tok.bos_token;
  if (!tok.eos_token.empty()) m["eos_token"] = tok.eos_token;
  if (!tok.unk_token.empty()) m["unk_token"] = tok.unk_token;
  if (!tok.pad_token.empty()) m["pad_token"] = tok.pad_token;
  return m;
}

}  // namespace

Json llama2c_hf_config(const Llama2cConfig& c, int32_t bos_id, int32_t eos_id) {
  return Json{
      {"architectures", Json::array({"LlamaForCausalLM"})},
      {"model_type", "llama"},
      {"hidden_size", c.dim},
      {"intermediate_size", c.hidden_dim},
      {"num_hidden_layers", c.n_layers},
      {"num_attention_heads", c.n_heads},
      {"num_key_value_heads", c.n_kv_heads},
      {"vocab_size", c.vocab_size},
      {"max_position_embeddings", c.seq_len},
      {"rms_norm_eps", 1e-5},  // llama2.c run.c's rmsnorm epsilon
      {"hidden_act", "silu"},
      {"rope_theta", 10000.0},
      {"rope_scaling", nullptr},
      {"tie_word_embeddings", c.shared_classifier},
      {"bos_token_id", id_or_null(bos_id)},
      {"eos_token_id", id_or_null(eos_id)},
      {"pretraining_tp", 1},
      {"initializer_range", 0.02},
      {"use_cache", true},
      {"torch_dtype", "float32"},
      {"transformers_version", kTransformersVersion},
  };
}

Status convert_llama2c_to_hf(const std::string& checkpoint_path, const SentencePieceSummary& tok,
                             const std::string& out_dir, bool overwrite) {
  // Everything that can be validated is validated before the output folder exists.
  PEFT_ASSIGN_OR_RETURN(Llama2cCheckpoint ck, read_llama2c(checkpoint_path));
  if (tok.vocab_size != ck.config.vocab_size) {
    return Status::errorf("tokenizer {} has {} pieces but checkpoint {} has vocab_size {}", tok.model_file,
                          tok.vocab_size, checkpoint_path, ck.config.vocab_size);
  }

  PEFT_ASSIGN_OR_RETURN(OutputDir out, OutputDir::create(out_dir, overwrite));
  std::vector<NamedTensor> named;
  named.reserve(ck.tensors.size());
  for (const auto& [name, tensor] : ck.tensors) named.push_back({name, tensor.view()});
  PEFT_TRY(write_safetensors(out.file("model.safetensors"), named, {{"format", "pt"}}));
  PEFT_TRY(write_json_file(out.file("config.json"), llama2c_hf_config(ck.config, tok.bos_id, tok.eos_id)));
  PEFT_TRY(write_json_file(out.file("generation_config.json"), Json{{"bos_token_id", id_or_null(tok.bos_id)},
                                                                    {"eos_token_id", id_or_null(tok.eos_id)},
                                                                    {"transformers_version", kTransformersVersion}}));
  PEFT_TRY(copy_file_atomic(tok.model_file, out.file("tokenizer.model")));
  PEFT_TRY(write_json_file(out.file("tokenizer_config.json"), tokenizer_config(tok, ck.config.seq_len)));
  PEFT_TRY(write_json_file(out.file("special_tokens_map.json"), special_tokens_map(tok)));
  return out.commit();
}

}  // namespace peft
