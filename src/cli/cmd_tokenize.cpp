// peft tokenize: stdin lines (or a JSON array of texts) -> token ids, or ids -> text with --decode.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command.h"
#include "io/json_file.h"
#include "tokenizer/tokenizer.h"

namespace peft::cli {
namespace {

// Tokenizers need a few hundred bytes per byte of one unbroken word (BPE keeps a symbol
// list and a merge queue per character): texts are bounded so memory stays bounded.
constexpr size_t kMaxTextBytes = size_t(1) << 20;

using Json = nlohmann::json;

struct TokenizeArgs {
  std::string model;
  std::string tokenizer;
  bool no_bos = false;
  bool add_special = false;
  bool decode = false;
  bool json = false;
};

// Parse one line of space-separated ids; errors name the 1-based line and the bad token.
Result<std::vector<int32_t>> parse_ids(const std::string& line, size_t line_no, int32_t vocab_size) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i == line.size()) break;
    size_t end = i;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t' && line[end] != '\r') ++end;
    const std::string_view word(line.data() + i, end - i);
    int64_t id = 0;
    auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), id);
    if (ec != std::errc() || ptr != word.data() + word.size()) {
      return Status::errorf("stdin line {}: '{}' is not a token id", line_no, word);
    }
    if (id < 0 || id >= vocab_size) {
      return Status::errorf("stdin line {}: token id {} out of range [0, {})", line_no, id, vocab_size);
    }
    ids.push_back(int32_t(id));
    i = end;
  }
  return ids;
}

Status write_out(const std::string& out) {
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size())
    return Status::error("tokenize: cannot write to stdout");
  return Status::ok();
}

// --json: stdin holds one JSON array, of strings (encode) or of id arrays (--decode); the
// answer is one JSON array on one line.
Status run_json(const Tokenizer& tok, const TokenizeArgs& args) {
  const std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (std::cin.bad()) return Status::error("tokenize: error reading stdin");
  PEFT_ASSIGN_OR_RETURN(Json in, parse_json_text(input, "stdin"));
  if (!in.is_array()) {
    return Status::errorf("stdin: expected a JSON array of {}", args.decode ? "id arrays" : "strings");
  }
  Json out = Json::array();
  for (size_t i = 0; i < in.size(); ++i) {
    const Json& item = in[i];
    if (args.decode) {
      if (!item.is_array()) return Status::errorf("stdin: element {} is not an array of token ids", i);
      std::vector<int32_t> ids;
      for (const Json& id : item) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= tok.vocab_size()) {
          return Status::errorf("stdin: element {}: {} is not a token id in [0, {})", i, id.dump(), tok.vocab_size());
        }
        ids.push_back(id.get<int32_t>());
      }
      out.push_back(tok.decode(ids));
    } else {
      if (!item.is_string()) return Status::errorf("stdin: element {} is not a string", i);
      if (item.get_ref<const std::string&>().size() > kMaxTextBytes)
        return Status::errorf("stdin: element {} holds {} bytes; peft tokenize takes texts up to {} bytes", i,
                              item.get_ref<const std::string&>().size(), kMaxTextBytes);
      out.push_back(tok.encode(item.get_ref<const std::string&>(), args.add_special));
    }
  }
  // Decoded text may end inside a multi-byte character: write U+FFFD rather than fail.
  return write_out(out.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
}

Status run_tokenize(const TokenizeArgs& args) {
  if (args.model.empty() == args.tokenizer.empty()) {
    return Status::error("tokenize: give exactly one of --model DIR or --tokenizer FILE|DIR");
  }
  if (args.decode && (args.no_bos || args.add_special))
    return Status::errorf("tokenize: {} applies to encoding, not --decode", args.no_bos ? "--no-bos" : "--add-special");
  if (args.json && args.no_bos)
    return Status::error("tokenize: --no-bos applies to line mode; --json adds no special tokens unless --add-special");
  if (!args.json && args.add_special)
    return Status::error("tokenize: --add-special applies to --json mode; line mode adds them unless --no-bos");
  PEFT_ASSIGN_OR_RETURN(auto tok, load_tokenizer(args.model.empty() ? args.tokenizer : args.model));
  if (args.json) {
    PEFT_TRY(run_json(*tok, args));
  } else {
    std::string line, out;
    size_t line_no = 0;
    while (std::getline(std::cin, line)) {
      ++line_no;
      out.clear();
      if (line.size() > kMaxTextBytes)
        return Status::errorf(
            "stdin: line {} holds {} bytes; peft tokenize takes texts up to {} bytes (one unbroken "
            "word of that size needs hundreds of times its size to tokenize)",
            line_no, line.size(), kMaxTextBytes);
      if (args.decode) {
        PEFT_ASSIGN_OR_RETURN(auto ids, parse_ids(line, line_no, tok->vocab_size()));
        out = tok->decode(ids);
      } else {
        // The line's own text only: getline already removed the '\n'.
        for (int32_t id : tok->encode(line, !args.no_bos)) {
          if (!out.empty()) out += ' ';
          out += std::to_string(id);
        }
      }
      out += '\n';
      PEFT_TRY(write_out(out));
    }
    if (std::cin.bad()) return Status::error("tokenize: error reading stdin");
  }
  if (std::fflush(stdout) != 0) return Status::error("tokenize: cannot write to stdout");
  return Status::ok();
}

}  // namespace

void add_tokenize(CLI::App& app, Action& action) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize",
      "token ids of each stdin line (one line of space-separated ids per line), of a JSON array of texts "
      "(--json), or text of ids (--decode)");
  auto* model = cmd->add_option("--model", args->model, "model folder holding the tokenizer");
  auto* tokenizer =
      cmd->add_option("--tokenizer", args->tokenizer,
                      "tokenizer file or folder (tokenizer.json, tokenizer.model, encoder.json + vocab.bpe)");
  model->excludes(tokenizer);
  cmd->add_flag("--no-bos", args->no_bos, "line mode: do not add BOS (added by default where the tokenizer adds it)");
  cmd->add_flag("--add-special", args->add_special,
                "--json mode: add the special tokens the tokenizer adds by default (BOS for LLaMA)");
  cmd->add_flag("--decode", args->decode,
                "read ids and print their text (lines of ids, or with --json an array of id arrays)");
  cmd->add_flag("--json", args->json,
                "read one JSON array of strings from stdin and print a JSON array of id arrays (no special tokens "
                "unless --add-special)");
  cmd->callback([args, &action] { action = [args] { return run_tokenize(*args); }; });
}

}  // namespace peft::cli
