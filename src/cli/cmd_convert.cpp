// peft convert: turn a foreign checkpoint (llama2.c today) into a Hugging Face model folder.
#include <filesystem>
#include <string>

#include "cli/command.h"
#include "io/llama2c_convert.h"
#include "io/output_target.h"
#include "tokenizer/sentencepiece_tokenizer.h"

namespace peft::cli {
namespace {

constexpr const char* kSupportedFormats = "llama2c";

struct ConvertArgs {
  std::string from;
  std::string checkpoint;
  std::string tokenizer;
  std::string out;
  bool overwrite = false;
};

// The tokenizer file: a .model file, or a folder holding tokenizer.model.
Result<SentencePieceSummary> summarize_sentencepiece(const std::string& path) {
  std::string file = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    file = (std::filesystem::path(path) / "tokenizer.model").string();
    if (!std::filesystem::is_regular_file(file, ec)) {
      return Status::errorf("{}: no tokenizer found (looked for tokenizer.model)", path);
    }
  }
  PEFT_ASSIGN_OR_RETURN(auto tok, SentencePieceTokenizer::load(file));
  SentencePieceSummary s;
  s.model_file = file;
  s.vocab_size = tok->vocab_size();
  s.bos_id = tok->bos_id();
  s.eos_id = tok->eos_id();
  s.bos_token = tok->piece(tok->bos_id());
  s.eos_token = tok->piece(tok->eos_id());
  s.unk_token = tok->piece(tok->unk_id());
  s.pad_token = tok->piece(tok->pad_id());
  return s;
}

Status run_convert(const ConvertArgs& args) {
  if (args.from != "llama2c") {
    return Status::errorf("convert: unknown --from '{}' (supported: {})", args.from, kSupportedFormats);
  }
  if (args.checkpoint.empty() || args.tokenizer.empty() || args.out.empty()) {
    return Status::error("convert --from llama2c needs --checkpoint FILE.bin, --tokenizer FILE.model and --out DIR");
  }
  PEFT_TRY(check_output_folder(args.out, args.overwrite));
  PEFT_ASSIGN_OR_RETURN(SentencePieceSummary tok, summarize_sentencepiece(args.tokenizer));
  PEFT_TRY(convert_llama2c_to_hf(args.checkpoint, tok, args.out, args.overwrite));
  fmt::print(stderr, "converted {} -> {}\n", args.checkpoint, args.out);
  return Status::ok();
}

}  // namespace

void add_convert(CLI::App& app, Action& action) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand("convert", "convert a checkpoint into a Hugging Face model folder");
  cmd->add_option("--from", args->from, std::string("source format (supported: ") + kSupportedFormats + ")")
      ->required();
  cmd->add_option("--checkpoint", args->checkpoint, "source checkpoint file (llama2c: model.bin)");
  cmd->add_option("--tokenizer", args->tokenizer, "SentencePiece tokenizer (.model file or folder)");
  cmd->add_option("--out", args->out, "output folder (new or empty; written atomically)")->required();
  cmd->add_flag("--overwrite", args->overwrite,
                "replace an existing output: the files this command writes (others in the folder are kept)");
  cmd->callback([args, &action] { action = [args] { return run_convert(*args); }; });
}

}  // namespace peft::cli
