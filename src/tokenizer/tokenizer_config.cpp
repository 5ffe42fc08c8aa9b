// load_tokenizer_json: tokenizer.json plus what tokenizer_config.json beside it says about
// BOS/EOS (the fast tokenizer alone does not know which token is which).
#include <filesystem>

#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/tokenizer_json.h"
#include "tokenizer/wordpiece_files.h"

namespace peft {
namespace {

int32_t id_of(const TokenizerSpec& spec, const std::string& content) {
  for (const AddedTokenSpec& a : spec.added_tokens)
    if (a.content == content) return a.id;
  for (size_t id = 0; id < spec.model.vocab.size(); ++id)
    if (spec.model.vocab[id] == content) return int32_t(id);
  return -1;
}

// "bos_token": "<s>" | {"content": "<s>", ...} | null. Absent: leaves `id` as it is.
Status read_token_field(const Json& config, const char* key, const std::string& where, const TokenizerSpec& spec,
                        int32_t& id) {
  auto it = config.find(key);
  if (it == config.end()) return Status::ok();
  std::string content;
  if (it->is_null()) {
    id = -1;
    return Status::ok();
  } else if (it->is_string()) {
    content = it->get<std::string>();
  } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    content = (*it)["content"].get<std::string>();
  } else {
    return Status::errorf("{}: field '{}' must be a string, {{\"content\": ...}} or null", where, key);
  }
  id = id_of(spec, content);
  if (id < 0) return Status::errorf("{}: {} '{}' is not a token of the tokenizer", where, key, content);
  return Status::ok();
}

Status apply_config(const Json& config, const std::string& where, TokenizerSpec& spec) {
  if (!config.is_object()) return Status::errorf("{}: expected a JSON object", where);
  PEFT_TRY(read_token_field(config, "bos_token", where, spec, spec.bos));
  PEFT_TRY(read_token_field(config, "eos_token", where, spec, spec.eos));
  // transformers' LlamaTokenizerFast / GemmaTokenizerFast rebuild the post-processor from
  // these flags, whatever tokenizer.json's template says.
  PEFT_ASSIGN_OR_RETURN(std::string cls, json_get_string_or(config, "tokenizer_class", "", where));
  if (cls.starts_with("LlamaTokenizer") || cls.starts_with("GemmaTokenizer") || cls.starts_with("CodeLlamaTokenizer")) {
    PEFT_ASSIGN_OR_RETURN(bool add_bos, json_get_bool_or(config, "add_bos_token", true, where));
    PEFT_ASSIGN_OR_RETURN(bool add_eos, json_get_bool_or(config, "add_eos_token", false, where));
    spec.prefix_ids.clear();
    spec.suffix_ids.clear();
    spec.pair_template.clear();  // their pair is the single template around each sequence
    if (add_bos && spec.bos >= 0) spec.prefix_ids.push_back(spec.bos);
    if (add_eos && spec.eos >= 0) spec.suffix_ids.push_back(spec.eos);
  }
  return Status::ok();
}

// Without a tokenizer_config.json: the usual names of special tokens.
void guess_bos_eos(TokenizerSpec& spec) {
  auto first_special = [&](std::initializer_list<const char*> names) {
    for (const char* name : names)
      for (const AddedTokenSpec& a : spec.added_tokens)
        if (a.special && a.content == name) return a.id;
    return -1;
  };
  if (spec.bos < 0) spec.bos = first_special({"<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>", "<|endoftext|>"});
  if (spec.eos < 0) spec.eos = first_special({"</s>", "<|end_of_text|>", "<eos>", "<|endoftext|>"});
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> load_tokenizer_json(const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(Json root, read_json_file(path));
  if (is_wordpiece_json(root)) return load_wordpiece_json(root, path);
  PEFT_ASSIGN_OR_RETURN(TokenizerSpec spec, parse_tokenizer_json(root, path));
  root = Json();  // the vocabulary is copied into spec; free the DOM early
  std::error_code ec;
  const std::string config_path = (std::filesystem::path(path).parent_path() / "tokenizer_config.json").string();
  if (std::filesystem::is_regular_file(config_path, ec)) {
    PEFT_ASSIGN_OR_RETURN(Json config, read_json_file(config_path));
    try {
      PEFT_TRY(apply_config(config, config_path, spec));
    } catch (const Json::exception& e) {
      return Status::errorf("{}: {}", config_path, json_error_text(e));
    }
  } else {
    guess_bos_eos(spec);
  }
  PEFT_ASSIGN_OR_RETURN(auto tok, HfBpeTokenizer::build(std::move(spec)));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace peft
