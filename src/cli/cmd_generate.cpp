// peft generate: continue a prompt; stdout gets the prompt and the continuation only.
#include <cstdio>
#include <memory>
#include <optional>

#include "adapters/adapter_io.h"
#include "cli/command.h"
#include "cli/common.h"
#include "data/chat_prompt.h"
#include "model/generate.h"
#include "tokenizer/text_stream.h"

namespace peft::cli {

namespace {
struct GenerateArgs {
  std::string model;
  std::string adapter;
  std::optional<double> adapter_scale;
  std::string prompt;
  int64_t max_new_tokens = 64;
  float temperature = 0.f;
  int64_t top_k = 0;
  float top_p = 1.f;
  uint64_t seed = 0;
  std::string base_dtype;
  bool no_bos = false;
  bool ignore_eos = false;
  ChatFlags chat;  // render --prompt as the user's turn with the chat template
};

Status run_generate(const GenerateArgs& a, const CLI::App& cmd) {
  if (a.temperature == 0)
    PEFT_TRY(refuse_given(cmd, {"--seed", "--top-k", "--top-p"},
                          "only applies when sampling (--temperature > 0); temperature 0 is greedy"));
  if (a.max_new_tokens < 0) return Status::error("--max-new-tokens must be >= 0");
  PEFT_TRY(check_chat_flags(cmd, a.chat));
  if (a.chat.on())
    PEFT_TRY(refuse_given(cmd, {"--no-bos"}, "does not apply to chat prompts: the chat template writes BOS"));
  if (a.temperature < 0) return Status::error("--temperature must be >= 0");
  if (!(a.top_p > 0 && a.top_p <= 1)) return Status::error("--top-p must be in (0, 1]");
  PEFT_ASSIGN_OR_RETURN(LoadOptions lo, load_options_from_flag(a.base_dtype));
  PEFT_ASSIGN_OR_RETURN(auto model, load_model(a.model, lo));
  PEFT_TRY(check_causal_lm(*model, "peft generate"));
  PEFT_ASSIGN_OR_RETURN(auto tok, load_matching_tokenizer(*model, a.model));
  PEFT_ASSIGN_OR_RETURN(std::unique_ptr<Adapter> adapter, load_cli_adapter(*model, a.adapter, a.adapter_scale));
  GenerateOptions opt;
  opt.max_new_tokens = a.max_new_tokens;
  opt.sampling = SamplingOptions{a.temperature, a.top_k, a.top_p, a.seed};
  opt.stop_at_eos = !a.ignore_eos;
  opt.hooks = adapter.get();

  std::vector<int32_t> prompt;
  if (a.chat.on()) {
    // The rendered conversation is the prompt (the template writes BOS); the reply is printed
    // alone and ends at the template's end of turn.
    PEFT_ASSIGN_OR_RETURN(ChatPrompt cp, load_chat_prompt(a.model, a.chat.chat_template, a.chat.system, *tok));
    PEFT_ASSIGN_OR_RETURN(std::string rendered, render_chat_prompt(cp, a.prompt));
    prompt = encode_rendered(*tok, rendered);
    opt.stop_ids = cp.end_ids;
  } else {
    prompt = tok->encode(a.prompt, !a.no_bos);
    std::fwrite(a.prompt.data(), 1, a.prompt.size(), stdout);
  }

  // Stream the decoded text's growth (tokenizer/text_stream.h): what is printed is exactly
  // the decode of prompt + continuation, whatever the tokens split.
  TextStream stream(*tok, prompt);
  auto print = [](const std::string& piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
  };
  auto on_token = [&](int32_t id) { print(stream.push(id)); };
  PEFT_ASSIGN_OR_RETURN(auto generated, generate(*model, prompt, opt, on_token));
  print(stream.finish());
  std::fputc('\n', stdout);
  std::fflush(stdout);
  std::fprintf(stderr, "generated %zu tokens\n", generated.size());
  return Status::ok();
}
}  // namespace

void add_generate(CLI::App& app, Action& action) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* sub = app.add_subcommand("generate", "continue a prompt with the model");
  sub->add_option("--model", args->model, "model folder")->required();
  sub->add_option("--adapter", args->adapter, "adapter to apply: a PEFT folder or a GGUF LoRA file");
  sub->add_option("--adapter-scale", args->adapter_scale,
                  "multiply the LoRA update by this (llama.cpp's --lora-scaled; default 1)");
  sub->add_option("--prompt", args->prompt, "prompt text")->required();
  sub->add_option("--max-new-tokens", args->max_new_tokens, "tokens to generate (default 64)");
  sub->add_option("--temperature", args->temperature, "0 = greedy (default)");
  sub->add_option("--top-k", args->top_k, "keep the k most likely tokens (0 = off)");
  sub->add_option("--top-p", args->top_p, "nucleus sampling mass (1 = off)");
  sub->add_option("--seed", args->seed, "sampling seed");
  sub->add_option("--base-dtype", args->base_dtype,
                  "base weights: f32, bf16 (every matrix), or q8_0|q4_0|q4_k|nf4 (a float checkpoint's projections "
                  "quantized at load); default the checkpoint's own (a quantized GGUF stays quantized)");
  sub->add_flag("--no-bos", args->no_bos, "do not prepend BOS to the prompt");
  sub->add_flag("--ignore-eos", args->ignore_eos, "keep generating after EOS (and the end of turn)");
  add_chat_flags(*sub, args->chat,
                 "--prompt is the user's message, rendered with the model's chat template (add_generation_prompt); "
                 "prints the reply only, up to the end of turn");
  sub->callback([args, sub, &action] { action = [args, sub] { return run_generate(*args, *sub); }; });
}

}  // namespace peft::cli
