// llama2.c checkpoint + SentencePiece tokenizer -> Hugging Face LLaMA folder (LlamaForCausalLM).
#pragma once
#include <cstdint>
#include <string>

#include "core/status.h"
#include "io/json_file.h"
#include "io/llama2c.h"

namespace peft {

// What the Hugging Face folder needs from the SentencePiece tokenizer. io/ may not
// depend on tokenizer/, so the caller (cli, tests) fills this from SentencePieceTokenizer.
struct SentencePieceSummary {
  std::string model_file;  // copied byte for byte to tokenizer.model
  int32_t vocab_size = 0;
  int32_t bos_id = -1;  // -1: none
  int32_t eos_id = -1;
  // Piece strings ("<s>", "</s>", "<unk>"); empty when the model has no such token.
  std::string bos_token, eos_token, unk_token, pad_token;
};

// config.json for a llama2.c model, as transformers 4.31 would write it for LlamaForCausalLM.
// bos_id/eos_id of -1 become null.
Json llama2c_hf_config(const Llama2cConfig& config, int32_t bos_id, int32_t eos_id);

// Writes config.json, generation_config.json, model.safetensors, tokenizer.model (byte
// copy), tokenizer_config.json and special_tokens_map.json into `out_dir`, built in a
// temporary sibling folder and moved into place (a non-empty folder only with `overwrite`,
// which replaces these files and keeps the others), so a failure leaves nothing
// half-written. The tokenizer's piece count must equal the checkpoint's vocab_size.
Status convert_llama2c_to_hf(const std::string& checkpoint_path, const SentencePieceSummary& tokenizer,
                             const std::string& out_dir, bool overwrite = false);

}  // namespace peft
