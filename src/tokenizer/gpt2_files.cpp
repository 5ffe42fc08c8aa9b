// encoder.json + vocab.bpe (OpenAI's GPT-2 release) as the same pipeline tokenizer.json spells.
#include "tokenizer/gpt2_files.h"

#include <fstream>
#include <sstream>

#include "io/json_file.h"
#include "tokenizer/hf_tokenizer.h"
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

}  // namespace peft
