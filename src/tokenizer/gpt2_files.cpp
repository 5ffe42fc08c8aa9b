// encoder.json + vocab.bpe (OpenAI's GPT-2 release) as the same pipeline tokenizer.json spells.
#include "tokenizer/gpt2_files.h"

#include <fstream>
#include <sstream>

#include <filesystem>

#include "io/json_file.h"
#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/slow_tokenizer_files.h"
#include "tokenizer/tokenizer_json.h"

namespace peft {

Result<TokenizerSpec> gpt2_spec_from_files(const std::string& encoder_json, const std::string& vocab_bpe) {
  TokenizerSpec spec;
  spec.where = vocab_bpe;
  spec.kind = "gpt2-bpe";
  {
    PEFT_ASSIGN_OR_RETURN(Json encoder, read_json_file(encoder_json));
    if (!encoder.is_object()) return Status::errorf("{}: expected an object of token -> id", encoder_json);
    PEFT_TRY(read_vocab_object(encoder, encoder_json, spec.model.vocab));
  }
  std::ifstream in(vocab_bpe, std::ios::binary);
  if (!in) return Status::errorf("{}: cannot open merges file", vocab_bpe);
  std::string line;
  for (size_t line_no = 1; std::getline(in, line); ++line_no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Hugging Face skips the "#version: 0.2" header and blank lines.
    if (line.starts_with("#version") || line.empty()) continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
      return Status::errorf("{}: line {} is not two tokens separated by one space: '{}'", vocab_bpe, line_no,
                            line.substr(0, 60));
    }
    spec.model.merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  if (in.bad()) return Status::errorf("{}: read error", vocab_bpe);

  PreTokenizerStep pre;
  pre.kind = PreTokenizerStep::Kind::ByteLevel;
  pre.add_prefix_space = false;
  pre.use_regex = true;
  spec.pre_tokenizer.push_back(pre);
  spec.decoder.push_back(DecoderStep{});  // ByteLevel
  for (size_t id = 0; id < spec.model.vocab.size(); ++id) {
    if (spec.model.vocab[id] == "<|endoftext|>") {
      spec.added_tokens.push_back({int32_t(id), "<|endoftext|>", /*special=*/true, false, false, false, false});
      spec.bos = spec.eos = int32_t(id);
    }
  }
  return spec;
}

Result<std::unique_ptr<Tokenizer>> load_gpt2_files(const std::string& encoder_json, const std::string& vocab_bpe) {
  PEFT_ASSIGN_OR_RETURN(TokenizerSpec spec, gpt2_spec_from_files(encoder_json, vocab_bpe));
  PEFT_ASSIGN_OR_RETURN(auto tok, HfBpeTokenizer::build(std::move(spec)));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

namespace {

// The id of `token`: the vocabulary's, or the next one past it (from_pretrained adds it).
int32_t id_or_add(TokenizerSpec& spec, const std::string& token) {
  for (const AddedTokenSpec& a : spec.added_tokens)
    if (a.content == token) return a.id;
  for (size_t id = 0; id < spec.model.vocab.size(); ++id)
    if (spec.model.vocab[id] == token) return int32_t(id);
  int32_t next = int32_t(spec.model.vocab.size());
  for (const AddedTokenSpec& a : spec.added_tokens) next = std::max(next, a.id + 1);
  return next;
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> load_vocab_merges(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path d(dir);
  PEFT_ASSIGN_OR_RETURN(TokenizerSpec spec,
                        gpt2_spec_from_files((d / "vocab.json").string(), (d / "merges.txt").string()));
  spec.kind = "bpe-vocab-merges";
  const std::string config_path = (d / "tokenizer_config.json").string();
  PEFT_ASSIGN_OR_RETURN(Json config, read_json_if_present(config_path));
  PEFT_ASSIGN_OR_RETURN(Json model_config, read_json_if_present(d / "config.json"));
  std::string cls_name;
  if (config.is_object() && config.contains("tokenizer_class") && config["tokenizer_class"].is_string())
    cls_name = config["tokenizer_class"].get<std::string>();
  const bool roberta = cls_name.starts_with("Roberta") || (cls_name.empty() && model_config.is_object() &&
                                                           model_config.value("model_type", "") == "roberta");
  if (!cls_name.empty() && !roberta && !cls_name.starts_with("GPT2"))
    return Status::errorf(
        "{}: tokenizer_class '{}' is not supported with vocab.json + merges.txt (RobertaTokenizer, "
        "GPT2Tokenizer)",
        config_path, cls_name);
  if (config.is_object()) {
    PEFT_ASSIGN_OR_RETURN(spec.pre_tokenizer[0].add_prefix_space,
                          json_get_bool_or(config, "add_prefix_space", false, config_path));
  }
  if (!roberta) {
    PEFT_ASSIGN_OR_RETURN(auto gpt2, HfBpeTokenizer::build(std::move(spec)));
    return std::unique_ptr<Tokenizer>(std::move(gpt2));
  }

  SpecialTokenNames names;
  names.bos = names.cls = "<s>";
  names.eos = names.sep = "</s>";
  names.unk = "<unk>";
  names.pad = "<pad>";
  names.mask = "<mask>";
  if (config.is_object()) PEFT_TRY(read_special_tokens(config, config_path, names));
  PEFT_ASSIGN_OR_RETURN(Json special_map, read_json_if_present(d / "special_tokens_map.json"));
  if (special_map.is_object())
    PEFT_TRY(read_special_tokens(special_map, (d / "special_tokens_map.json").string(), names));
  spec.added_tokens.clear();  // GPT-2's <|endoftext|> is no RoBERTa special
  for (const std::string& token : names.all()) {
    // The mask behaves like a word: it takes the space before it (AddedToken(lstrip=True)).
    spec.added_tokens.push_back({id_or_add(spec, token), token, true, token == names.mask, false, false, false});
  }
  if (names.cls.empty() || names.sep.empty())
    return Status::errorf("{}: cls_token and sep_token are needed for <s> text </s>", config_path);
  const int32_t cls = id_or_add(spec, names.cls), sep = id_or_add(spec, names.sep);
  spec.prefix_ids = {cls};
  spec.suffix_ids = {sep};
  spec.pair_template = roberta_pair_template(cls, sep);
  spec.bos = cls;
  spec.eos = sep;
  PEFT_ASSIGN_OR_RETURN(auto tok, HfBpeTokenizer::build(std::move(spec)));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace peft
