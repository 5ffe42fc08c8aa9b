// peft tokenize: stdin lines -> token ids (one line of ids per line), or ids -> text with --decode.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/command.h"
#include "tokenizer/tokenizer.h"

namespace peft::cli {
namespace {

struct TokenizeArgs {
  std::string model;
  std::string tokenizer;
  bool no_bos = false;
  bool decode = false;
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

Status run_tokenize(const TokenizeArgs& args) {
  if (args.model.empty() == args.tokenizer.empty()) {
    return Status::error("tokenize: give exactly one of --model DIR or --tokenizer FILE|DIR");
  }
  PEFT_ASSIGN_OR_RETURN(auto tok, load_tokenizer(args.model.empty() ? args.tokenizer : args.model));
  std::string line, out;
  size_t line_no = 0;
  while (std::getline(std::cin, line)) {
    ++line_no;
    out.clear();
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
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) {
      return Status::error("tokenize: cannot write to stdout");
    }
  }
  if (std::cin.bad()) return Status::error("tokenize: error reading stdin");
  if (std::fflush(stdout) != 0) return Status::error("tokenize: cannot write to stdout");
  return Status::ok();
}

}  // namespace

void add_tokenize(CLI::App& app, Action& action) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize", "token ids of each stdin line (one line of space-separated ids per line), or --decode");
  auto* model = cmd->add_option("--model", args->model, "model folder holding the tokenizer");
  auto* tokenizer = cmd->add_option("--tokenizer", args->tokenizer, "tokenizer file or folder");
  model->excludes(tokenizer);
  cmd->add_flag("--no-bos", args->no_bos, "do not prepend BOS (added by default where the tokenizer has one)");
  cmd->add_flag("--decode", args->decode, "read lines of space-separated ids and print their text");
  cmd->callback([args, &action] { action = [args] { return run_tokenize(*args); }; });
}

}  // namespace peft::cli
