// Helpers for the tokenizer tests (see tokenizer_test_util.h).
#include "tokenizer/tokenizer_test_util.h"

#include <sentencepiece_processor.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "test_paths.h"

namespace peft::test {

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string gpt2_dir() { return shared_path("data/tokenizers/gpt2"); }
std::string llama2_model() { return shared_path("data/tokenizers/llama2/tokenizer.model"); }
std::string tok512_model() { return shared_path("data/models/stories260K/tok512.model"); }
std::string vectors_base(const std::string& vocab) {
  return shared_path("data/tokenizers/testvectors/ggml-vocab-" + vocab + ".gguf");
}

std::vector<TokVector> read_llama_cpp_vectors(const std::string& base) {
  const std::string inp = read_file(base + ".inp");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<TokVector> out;
  size_t pos = 0;
  for (size_t next; (next = inp.find(sep, pos)) != std::string::npos; pos = next + sep.size()) {
    out.push_back({inp.substr(pos, next - pos), {}});
  }
  std::istringstream lines(read_file(base + ".out"));
  std::string line;
  for (size_t i = 0; i < out.size() && std::getline(lines, line); ++i) {
    std::istringstream ss(line);
    for (int32_t id; ss >> id;) out[i].ids.push_back(id);
  }
  return out;
}

VocabSpec vocab_from_sentencepiece(const std::string& model_path) {
  sentencepiece::SentencePieceProcessor sp;
  VocabSpec v;
  if (!sp.Load(model_path).ok()) return v;
  v.model = "llama";
  for (int id = 0; id < sp.GetPieceSize(); ++id) {
    v.tokens.push_back(sp.IdToPiece(id));
    v.scores.push_back(sp.GetScore(id));
    TokenType t = TokenType::Normal;
    if (sp.IsControl(id))
      t = TokenType::Control;
    else if (sp.IsUnknown(id))
      t = TokenType::Unknown;
    else if (sp.IsByte(id))
      t = TokenType::Byte;
    else if (sp.IsUnused(id))
      t = TokenType::Unused;
    v.token_types.push_back(int32_t(t));
  }
  v.bos = sp.bos_id();
  v.eos = sp.eos_id();
  v.unk = sp.unk_id();
  v.pad = sp.pad_id();
  // The normalizer flags live in the ModelProto, which this API does not expose: probe
  // them. With remove_extra_whitespaces a lone space encodes to nothing.
  std::vector<int> ids;
  v.remove_extra_whitespaces = sp.Encode(" ", &ids).ok() && ids.empty();
  std::vector<std::string> pieces;
  v.add_space_prefix = sp.Encode("a", &pieces).ok() && !pieces.empty() && pieces[0].starts_with("\xE2\x96\x81");
  return v;
}

std::vector<std::pair<std::string, std::string>> merges_from_scores(const VocabSpec& v) {
  std::map<std::string, int32_t> id;
  for (size_t i = 0; i < v.tokens.size(); ++i) id.emplace(v.tokens[i], int32_t(i));
  struct M {
    std::string l, r;
    float score;
    size_t len_l, len_r;  // in code points, as Python's len()
  };
  auto code_points = [](const std::string& s) {
    return size_t(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
  };
  std::vector<M> merges;
  for (size_t p = 0; p < v.tokens.size(); ++p) {
    const std::string& piece = v.tokens[p];
    std::vector<M> local;
    for (size_t cut = 1; cut < piece.size(); ++cut) {
      if ((static_cast<unsigned char>(piece[cut]) & 0xC0) == 0x80) continue;  // inside a character
      std::string l = piece.substr(0, cut), r = piece.substr(cut);
      if (id.count(l) && id.count(r)) local.push_back({l, r, v.scores[p], code_points(l), code_points(r)});
    }
    std::stable_sort(local.begin(), local.end(),
                     [&](const M& a, const M& b) { return std::pair(id[a.l], id[a.r]) < std::pair(id[b.l], id[b.r]); });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  std::stable_sort(merges.begin(), merges.end(), [](const M& a, const M& b) {
    return std::tuple(a.score, a.len_l, a.len_r) > std::tuple(b.score, b.len_l, b.len_r);
  });
  std::vector<std::pair<std::string, std::string>> out;
  for (const M& m : merges) out.emplace_back(m.l, m.r);
  return out;
}

namespace {

Json added_token(int id, const std::string& content, bool special, bool normalized) {
  return {{"id", id},        {"content", content},       {"single_word", false}, {"lstrip", false},
          {"rstrip", false}, {"normalized", normalized}, {"special", special}};
}

Json bpe_model(Json vocab, Json merges, bool byte_fallback, Json unk) {
  return {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", unk},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", byte_fallback},
          {"byte_fallback", byte_fallback},
          {"ignore_merges", false},
          {"vocab", std::move(vocab)},
          {"merges", std::move(merges)}};
}

Json gpt2_merges(bool as_pairs) {
  std::istringstream lines(read_file(gpt2_dir() + "/vocab.bpe"));
  Json merges = Json::array();
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.starts_with("#version")) continue;
    const size_t space = line.find(' ');
    if (as_pairs)
      merges.push_back({line.substr(0, space), line.substr(space + 1)});
    else
      merges.push_back(line);
  }
  return merges;
}

}  // namespace

Json gpt2_tokenizer_json(bool merges_as_pairs) {
  Json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", {added_token(50256, "<|endoftext|>", true, true)}},
          {"normalizer", nullptr},
          {"pre_tokenizer", byte_level},
          {"post_processor", byte_level},
          {"decoder", byte_level},
          {"model", bpe_model(Json::parse(read_file(gpt2_dir() + "/encoder.json")), gpt2_merges(merges_as_pairs), false,
                              nullptr)}};
}

Json qwen2_style_tokenizer_json() {
  Json j = gpt2_tokenizer_json(true);
  const char* qwen2 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  j["normalizer"] = {{"type", "NFC"}};
  j["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"}, {"pattern", {{"Regex", qwen2}}}, {"behavior", "Isolated"}, {"invert", false}},
        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}};
  return j;
}

Json llama_tokenizer_json(const VocabSpec& v, bool metaspace) {
  Json vocab = Json::object();
  for (size_t i = 0; i < v.tokens.size(); ++i) vocab[v.tokens[i]] = i;
  Json merges = Json::array();
  for (auto& [l, r] : merges_from_scores(v)) merges.push_back(l + " " + r);
  const std::string marker = "\xE2\x96\x81";
  Json j = {
      {"version", "1.0"},
      {"added_tokens",
       {added_token(0, "<unk>", true, false), added_token(1, "<s>", true, false), added_token(2, "</s>", true, false)}},
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", marker}},
          {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", marker}}}}}},
      {"pre_tokenizer", nullptr},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single",
         {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair", Json::array()},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders",
         {{{"type", "Replace"}, {"pattern", {{"String", marker}}}, {"content", " "}},
          {{"type", "ByteFallback"}},
          {{"type", "Fuse"}},
          {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
      {"model", bpe_model(std::move(vocab), std::move(merges), true, "<unk>")}};
  if (metaspace) {
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = {
        {"type", "Metaspace"}, {"replacement", marker}, {"prepend_scheme", "first"}, {"split", false}};
  }
  return j;
}

namespace {

void collect_strings(const Json& j, std::vector<std::string>& out) {
  if (j.is_string())
    out.push_back(j.get<std::string>());
  else if (j.is_array() || j.is_object())
    for (const Json& item : j) collect_strings(item, out);
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> cells;
  size_t pos = 0;
  for (size_t tab; (tab = line.find('\t', pos)) != std::string::npos; pos = tab + 1)
    cells.push_back(line.substr(pos, tab - pos));
  cells.push_back(line.substr(pos));
  return cells;
}

// GLUE: the columns named sentence*, or column 3 of CoLA's header-less train/dev files.
void tsv_texts(const std::string& text, std::vector<std::string>& out) {
  std::istringstream lines(text);
  std::string line;
  std::vector<size_t> columns;
  bool first = true;
  while (std::getline(lines, line)) {
    std::vector<std::string> cells = split_tabs(line);
    if (first) {
      first = false;
      for (size_t c = 0; c < cells.size(); ++c)
        if (cells[c].starts_with("sentence")) columns.push_back(c);
      if (!columns.empty()) continue;  // a header line
      columns = {3};
    }
    for (size_t c : columns)
      if (c < cells.size()) out.push_back(cells[c]);
  }
}

}  // namespace

const std::vector<DatasetFile>& dataset_texts() {
  static const std::vector<DatasetFile> files = [] {
    std::vector<std::string> paths;
    for (const auto& e : fs::recursive_directory_iterator(shared_path("data/datasets"))) {
      const std::string name = e.path().filename().string();
      const std::string ext = e.path().extension().string();
      if (!e.is_regular_file() || name.find("LICENSE") != std::string::npos) continue;
      if (ext == ".json" || ext == ".jsonl" || ext == ".tsv" || ext == ".txt") paths.push_back(e.path().string());
    }
    std::sort(paths.begin(), paths.end());
    std::vector<DatasetFile> out;
    for (const std::string& path : paths) {
      DatasetFile f{path, {}};
      const std::string text = read_file(path);
      if (path.ends_with(".json")) {
        collect_strings(Json::parse(text), f.texts);
      } else if (path.ends_with(".jsonl")) {
        std::istringstream lines(text);
        for (std::string line; std::getline(lines, line);)
          if (!line.empty()) collect_strings(Json::parse(line), f.texts);
      } else if (path.ends_with(".tsv")) {
        tsv_texts(text, f.texts);
      } else {
        std::istringstream lines(text);
        for (std::string line; std::getline(lines, line);) f.texts.push_back(line);
      }
      out.push_back(std::move(f));
    }
    return out;
  }();
  return files;
}

}  // namespace peft::test
