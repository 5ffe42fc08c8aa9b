// The tokenizer that goes with a model: loaded from its folder (or GGUF), checked against it.
#pragma once
#include <memory>
#include <string>

#include "core/status.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace peft {

// load_tokenizer(path), refused when its vocabulary exceeds the model's (ids the embedding
// table has no row for): "<path>: tokenizer has N tokens but the model's vocab_size is M".
Result<std::unique_ptr<Tokenizer>> load_matching_tokenizer(const Model& model, const std::string& path);

}  // namespace peft
