// GGUF metadata → Hugging Face config.json, and load_gguf_model.
#include "model/gguf_model.h"

#include <cstring>

namespace peft {

namespace {

// output.weight absent, or a byte-for-byte copy of token_embd.weight (llama.cpp's GPT-2
// converter writes the tied head twice): the head is the embedding.
bool tied_head(const GgufFile& f) {
  const GgufTensorInfo* out = f.find_tensor("output.weight");
  if (!out) return true;
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  return emb && emb->type == out->type && emb->ne == out->ne && emb->nbytes == out->nbytes &&
         std::memcmp(emb->data, out->data, size_t(out->nbytes)) == 0;
}

}  // namespace

Result<Json> gguf_hf_config(const GgufFile& f) {
  PEFT_ASSIGN_OR_RETURN(std::string type, f.get_string_or("general.type", "model"));
  if (type != "model")
    return Status::errorf("{}: general.type is '{}': this GGUF file is {}, not a model{}", f.path(), type,
                          type == "adapter" ? "an adapter" : "something else",
                          type == "adapter" ? " (pass it as --adapter)" : "");
  PEFT_ASSIGN_OR_RETURN(std::string arch_name, f.get_string("general.architecture"));
  const GgufArchDef* arch = find_gguf_arch(arch_name);
  if (!arch)
    return Status::errorf("{}: unsupported GGUF architecture '{}' (supported: {})", f.path(), arch_name,
                          supported_gguf_archs());
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  if (!emb || emb->ne.size() != 2)
    return Status::errorf("{}: tensor 'token_embd.weight' is missing or not a matrix", f.path());
  Json c = Json::object();
  c["model_type"] = arch->model_type;
  c["vocab_size"] = emb->ne[1];
  c["tie_word_embeddings"] = tied_head(f);
  PEFT_ASSIGN_OR_RETURN(int64_t bos, f.get_int_or("tokenizer.ggml.bos_token_id", -1));
  PEFT_ASSIGN_OR_RETURN(int64_t eos, f.get_int_or("tokenizer.ggml.eos_token_id", -1));
  if (bos >= 0) c["bos_token_id"] = bos;
  if (eos >= 0) c["eos_token_id"] = eos;
  return arch->read_config(f, std::move(c));
}

Result<std::unique_ptr<Model>> load_gguf_model(const std::string& path, const LoadOptions& options) {
  PEFT_ASSIGN_OR_RETURN(GgufFile file, GgufFile::open(path));
  auto shared = std::make_shared<const GgufFile>(std::move(file));
  PEFT_ASSIGN_OR_RETURN(Json config, gguf_hf_config(*shared));
  PEFT_ASSIGN_OR_RETURN(auto source, gguf_tensor_source(shared, config, options));
  return load_model_from(config, path + " (GGUF metadata)", std::move(source), path, options);
}

}  // namespace peft
