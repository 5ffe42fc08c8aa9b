// Shared by the tokenizer tests: llama.cpp vectors, data set texts, generated tokenizer files.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/vocab_spec.h"

namespace peft::test {

using Json = nlohmann::json;

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);

std::string gpt2_dir();      // shared encoder.json + vocab.bpe
std::string llama2_model();  // shared Llama-2 tokenizer.model
std::string tok512_model();  // stories260K's tok512.model

// llama.cpp's test vectors: `base` + ".inp" holds texts each followed by
// "\n__ggml_vocab_test__\n"; `base` + ".out" one line of ids per text (no BOS).
struct TokVector {
  std::string text;
  std::vector<int32_t> ids;
};
std::vector<TokVector> read_llama_cpp_vectors(const std::string& base);
std::string vectors_base(const std::string& vocab);  // "gpt-2" | "llama-spm"

// A SentencePiece model's pieces, scores and types through the sentencepiece API, as the
// GGUF reader would hand them over (model "llama").
VocabSpec vocab_from_sentencepiece(const std::string& model_path);

// Merges as transformers' SentencePieceExtractor derives them from pieces: every split of
// a piece into two pieces is a merge; merges ordered by the merged piece's score (higher
// first), then longer left part, then longer right part, ties in piece-id order.
std::vector<std::pair<std::string, std::string>> merges_from_scores(const VocabSpec& v);

// tokenizer.json documents, as transformers writes them.
Json gpt2_tokenizer_json(bool merges_as_pairs);
// LLaMA's: `metaspace` false -> normalizer Sequence[Prepend("▁"), Replace(" ", "▁")] (the
// common form); true -> the Metaspace pre-tokenizer form (prepend_scheme "first", split false).
Json llama_tokenizer_json(const VocabSpec& v, bool metaspace);
// Qwen2's pipeline on GPT-2's vocabulary: NFC, Split(Qwen2 regex, Isolated), ByteLevel(use_regex=false).
Json qwen2_style_tokenizer_json();

// Every text of shared/data/datasets, per file: string fields of JSON/JSONL records
// (instruction/input/output, question/answer, ...), GLUE sentence columns, E2E lines.
struct DatasetFile {
  std::string path;
  std::vector<std::string> texts;
};
const std::vector<DatasetFile>& dataset_texts();

}  // namespace peft::test
