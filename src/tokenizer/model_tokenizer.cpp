// load_matching_tokenizer.
#include "tokenizer/model_tokenizer.h"

namespace peft {

Result<std::unique_ptr<Tokenizer>> load_matching_tokenizer(const Model& model, const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(auto tok, load_tokenizer(path));
  if (tok->vocab_size() > model.config.n_vocab)
    return Status::errorf("{}: tokenizer has {} tokens but the model's vocab_size is {}", path, tok->vocab_size(),
                          model.config.n_vocab);
  return tok;
}

}  // namespace peft
