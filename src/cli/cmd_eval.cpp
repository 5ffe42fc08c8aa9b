// peft eval: LLM-Adapters' math/commonsense protocols, GLUE/E2E verbaliser tasks, likelihood
// scoring, rescoring, perplexity.
#include <cstdio>
#include <memory>
#include <optional>

#include "adapters/adapter_io.h"
#include "cli/command.h"
#include "cli/common.h"
#include "data/verbalisers.h"
#include "dist/comm.h"
#include "eval/classifier_eval.h"
#include "eval/e2e_metrics.h"
#include "eval/evaluator.h"
#include "eval/reference_eval.h"
#include "eval/reference_tasks.h"
#include "io/mapped_file.h"
#include "io/output_target.h"

namespace peft::cli {

namespace {
struct EvalArgs {
  std::string model, adapter, task, data, out, scoring = "generate", predictions, base_dtype;
  std::string hypotheses, references;  // --task e2e on a system output file
  std::optional<double> adapter_scale;
  bool overwrite = false;
  int64_t limit = -1;           // -1: all records
  int64_t max_new_tokens = -1;  // -1: the task's default
  int64_t num_beams = 1;
  BeamOptions beam;         // --length-penalty, --no-repeat-ngram-size (beam search on GLUE / E2E)
  int64_t batch_size = 16;  // greedy prompts decoded together (docs/results.md: measured)
  ChatFlags chat;           // prompt with the model's chat template instead of LLM-Adapters'
};

Status validate(const EvalArgs& a, const CLI::App& cmd) {
  PEFT_TRY(check_output_folder(a.out, a.overwrite));
  if (!a.hypotheses.empty() || !a.references.empty()) {  // scoring a system output file
    if (a.task != "e2e")
      return Status::errorf("--hypotheses/--references score E2E system outputs: they need --task e2e, not '{}'",
                            a.task);
    if (a.hypotheses.empty() || a.references.empty())
      return Status::error("--task e2e on files needs both --hypotheses H.txt and --references R.txt");
    return refuse_given(
        cmd,
        {"--model", "--adapter", "--adapter-scale", "--base-dtype", "--data", "--limit", "--predictions", "--scoring",
         "--num-beams", "--batch-size", "--max-new-tokens", "--chat", "--chat-template", "--system"},
        "is not used when --hypotheses/--references score a system output file");
  }
  // What each mode leaves unused is refused, not ignored.
  if (!a.predictions.empty())
    PEFT_TRY(refuse_given(
        cmd,
        {"--model", "--adapter", "--adapter-scale", "--base-dtype", "--num-beams", "--batch-size", "--max-new-tokens"},
        "is not used when --predictions rescores saved outputs"));
  if (a.task == "perplexity")
    PEFT_TRY(refuse_given(cmd, {"--predictions", "--scoring", "--num-beams", "--batch-size", "--max-new-tokens"},
                          "does not apply to --task perplexity"));
  if (a.scoring == "likelihood")
    PEFT_TRY(refuse_given(cmd, {"--num-beams", "--batch-size", "--max-new-tokens"},
                          "applies to --scoring generate (likelihood scoring generates nothing)"));
  if (a.num_beams > 1)
    PEFT_TRY(
        refuse_given(cmd, {"--batch-size"}, "applies to greedy generation; beam search decodes one prompt at a time"));
  if (a.num_beams == 1)
    PEFT_TRY(
        refuse_given(cmd, {"--length-penalty", "--no-repeat-ngram-size"}, "applies to beam search (--num-beams > 1)"));
  if (!is_reference_task(a.task))
    PEFT_TRY(refuse_given(cmd, {"--length-penalty", "--no-repeat-ngram-size"},
                          "applies to the GLUE / E2E tasks' beam search (AdaMix's NLG recipe)"));
  if (a.beam.no_repeat_ngram_size < 0)
    return Status::errorf("--no-repeat-ngram-size must be >= 0, found {}", a.beam.no_repeat_ngram_size);
  PEFT_TRY(check_chat_flags(cmd, a.chat));
  if (a.chat.on() &&
      (is_reference_task(a.task) || a.task == "perplexity" || a.scoring == "likelihood" || !a.predictions.empty()))
    return Status::errorf(
        "--chat/--chat-template apply to generated answers of the LLM-Adapters tasks (math, commonsense), not to "
        "{}",
        a.task == "perplexity" || is_reference_task(a.task)
            ? "--task " + a.task
            : std::string(a.scoring == "likelihood" ? "--scoring likelihood" : "--predictions rescoring"));
  if (a.limit == 0 || a.limit < -1) return Status::errorf("--limit must be >= 1, found {}", a.limit);
  if (a.max_new_tokens == 0 || a.max_new_tokens < -1)
    return Status::errorf("--max-new-tokens must be >= 1, found {}", a.max_new_tokens);
  if (a.num_beams < 1) return Status::errorf("--num-beams must be >= 1, found {}", a.num_beams);
  if (a.batch_size < 1) return Status::errorf("--batch-size must be >= 1, found {}", a.batch_size);
  if (a.scoring != "generate" && a.scoring != "likelihood")
    return Status::errorf("--scoring: expected generate or likelihood, found '{}'", a.scoring);
  if (!a.predictions.empty() && a.scoring != "generate")
    return Status::error("--predictions rescoring applies to generated outputs, not --scoring likelihood");
  if (a.predictions.empty() && a.model.empty())
    return Status::error("--model is required (unless --predictions rescores saved outputs)");
  if (a.task == "perplexity" && a.data.empty()) return Status::error("--task perplexity needs --data FILE");
  if (is_reference_task(a.task) && a.scoring == "likelihood" && find_verbal_task(a.task)->kind != VerbalKind::Class)
    return Status::errorf("--scoring likelihood needs a classification task (sst2, cola, rte), not '{}'", a.task);
  return Status::ok();
}

// The model, tokenizer and adapter an evaluation runs, kept alive together.
struct LoadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tok;
  std::unique_ptr<Adapter> adapter;
  std::unique_ptr<ChatPrompt> chat;
  EvalModel view() const { return EvalModel{model.get(), adapter.get(), tok.get(), chat.get()}; }
};

Result<LoadedModel> load_eval_model(const EvalArgs& a) {
  LoadedModel lm;
  PEFT_ASSIGN_OR_RETURN(LoadOptions lo, load_options_from_flag(a.base_dtype, a.adapter));
  PEFT_ASSIGN_OR_RETURN(lm.model, load_model(a.model, lo));
  PEFT_ASSIGN_OR_RETURN(lm.tok, load_matching_tokenizer(*lm.model, a.model));
  PEFT_ASSIGN_OR_RETURN(lm.adapter, load_cli_adapter(*lm.model, a.adapter, a.adapter_scale));
  if (a.chat.on()) {
    PEFT_ASSIGN_OR_RETURN(ChatPrompt cp, load_chat_prompt(a.model, a.chat.chat_template, a.chat.system, *lm.tok));
    lm.chat = std::make_unique<ChatPrompt>(std::move(cp));
  }
  return lm;
}

// Adds the run's settings to results.json, writes the outputs and prints the summary line.
Status finish(const EvalArgs& a, EvalOutcome& outcome, const std::string& data, int64_t max_new,
              const char* prompt_template) {
  Json settings;
  settings["model"] = a.model;
  settings["adapter"] = a.adapter;
  settings["data"] = data;
  settings["limit"] = a.limit;
  settings["scoring"] = a.task == "perplexity" ? "perplexity" : (a.predictions.empty() ? a.scoring : "rescore");
  settings["predictions"] = a.predictions;
  settings["max_new_tokens"] = max_new;
  settings["num_beams"] = a.num_beams;
  settings["batch_size"] = a.batch_size;
  settings["decoding"] = a.num_beams > 1 ? "beam search" : "greedy";
  if (a.num_beams > 1) {
    settings["length_penalty"] = a.beam.length_penalty;
    settings["no_repeat_ngram_size"] = a.beam.no_repeat_ngram_size;
  }
  settings["prompt_template"] = prompt_template;
  if (a.chat.on()) {
    settings["chat_template"] = a.chat.chat_template.empty() ? a.model + " (its own)" : a.chat.chat_template;
    settings["system"] = a.chat.system;
  }
  if (outcome.results.value("scoring", "") == "classifier") {  // no text was generated
    settings["scoring"] = "classifier";
    settings["decoding"] = "the classification head";
    settings.erase("max_new_tokens");
    settings.erase("num_beams");
  }
  outcome.results["settings"] = settings;
  // Under MPI every rank holds the whole outcome; rank 0 writes it and reports.
  PEFT_TRY(dist::agree(dist::is_root() ? write_eval_outputs(a.out, outcome, a.overwrite) : Status::ok(),
                       "writing " + a.out));
  if (!dist::is_root()) return Status::ok();
  std::printf("%s\n", summary_line(outcome.results).c_str());
  std::fflush(stdout);
  return Status::ok();
}

// GLUE on a model with a sequence-classification head: the head predicts (eval/classifier_eval.h).
// MNLI without --data scores both dev sets, matched and mismatched.
Status run_classifier(const EvalArgs& a, const LoadedModel& lm, const std::string& data) {
  const VerbalTask* verbal = find_verbal_task(a.task);
  if (verbal && verbal->kind == VerbalKind::Text)
    return Status::errorf("--task {} generates text; a model with a classification head cannot", a.task);
  if (a.scoring != "generate" || a.num_beams > 1 || a.max_new_tokens > 0)
    return Status::error(
        "--scoring, --num-beams and --max-new-tokens apply to generated answers; this model's classification head "
        "predicts the label itself");
  const int64_t max_len = lm.model->config.n_ctx;
  PEFT_ASSIGN_OR_RETURN(EvalOutcome outcome,
                        eval_glue_classifier(a.task, data, lm.view(), a.batch_size, max_len, a.limit));
  if (a.task == "mnli" && a.data.empty()) {
    std::string mismatched = data;
    mismatched.replace(mismatched.rfind("dev_matched.tsv"), 15, "dev_mismatched.tsv");
    PEFT_ASSIGN_OR_RETURN(EvalOutcome mm,
                          eval_glue_classifier(a.task, mismatched, lm.view(), a.batch_size, max_len, a.limit));
    outcome.results["accuracy_mismatched"] = mm.results["accuracy"];
    outcome.results["n_mismatched"] = mm.results["n"];
    outcome.results["data_mismatched"] = mismatched;
  }
  return finish(a, outcome, data, 0, "the tokenizer's sentence-pair template (classification head)");
}

// GLUE / E2E: prompts from the verbalisers (the training template up to the response),
// generated or likelihood-ranked outputs, or saved ones, scored against the references.
Status run_reference(const EvalArgs& a) {
  const std::string data = !a.data.empty() ? a.data : default_reference_data(a.task);
  PEFT_ASSIGN_OR_RETURN(std::vector<ReferenceItem> items, load_reference_items(a.task, data));
  const int64_t max_new = a.max_new_tokens > 0 ? a.max_new_tokens : find_verbal_task(a.task)->default_max_new_tokens;
  EvalOutcome outcome;
  if (!a.predictions.empty()) {
    PEFT_ASSIGN_OR_RETURN(auto saved, load_predictions(a.predictions, int64_t(items.size())));
    if (a.limit > 0 && int64_t(saved.size()) > a.limit) saved.resize(size_t(a.limit));
    PEFT_ASSIGN_OR_RETURN(outcome, score_reference_items(a.task, items, saved));
  } else {
    if (a.limit > 0 && int64_t(items.size()) > a.limit) items.resize(size_t(a.limit));
    auto loaded = load_eval_model(a);
    PEFT_TRY(dist::agree(loaded.status(), "loading the model"));
    LoadedModel lm = std::move(*loaded);
    if (!lm.model->head.empty()) return run_classifier(a, lm, data);
    PEFT_TRY(check_causal_lm(*lm.model, "peft eval --task " + a.task));
    if (a.scoring == "likelihood") {
      PEFT_ASSIGN_OR_RETURN(outcome, eval_reference_likelihood(a.task, items, lm.view()));
    } else {
      ContinuationOptions opt;
      opt.max_new_tokens = max_new;
      opt.num_beams = a.num_beams;
      opt.batch_size = a.batch_size;
      opt.beam = a.beam;
      PEFT_ASSIGN_OR_RETURN(outcome, eval_reference_generate(a.task, items, lm.view(), opt));
    }
  }
  return finish(a, outcome, data, max_new, "LLM-Adapters finetune.py generate_prompt with an empty output");
}

// E2E system outputs (one a line) against the challenge's multi-reference file: the official
// scorer's BLEU, NIST, ROUGE-L and CIDEr (eval/e2e_metrics.h).
Status run_e2e_files(const EvalArgs& a) {
  PEFT_ASSIGN_OR_RETURN(E2eScores e, score_e2e_files(a.hypotheses, a.references));
  PEFT_ASSIGN_OR_RETURN(auto hyp_file, MappedFile::open(a.hypotheses));
  PEFT_ASSIGN_OR_RETURN(
      std::vector<std::string> outputs,
      parse_e2e_outputs(std::string_view(reinterpret_cast<const char*>(hyp_file->data()), hyp_file->size()),
                        a.hypotheses));
  EvalOutcome outcome;
  for (size_t i = 0; i < outputs.size(); ++i)
    outcome.predictions.push_back(Json{{"index", int64_t(i)}, {"output", outputs[i]}});
  Json& r = outcome.results;
  r["task"] = "e2e";
  r["n"] = int64_t(outputs.size());
  r["bleu"] = e.bleu;
  r["nist"] = e.nist;
  r["rouge_l"] = e.rouge_l;
  r["cider"] = e.cider;
  r["metrics"] = "E2E measure_scores.py (pymteval BLEU/NIST, pycocoevalcap ROUGE-L/CIDEr); no METEOR";
  r["settings"] = Json{{"hypotheses", a.hypotheses}, {"references", a.references}};
  PEFT_TRY(write_eval_outputs(a.out, outcome, a.overwrite));
  std::printf("%s\n", summary_line(r).c_str());
  std::fflush(stdout);
  return Status::ok();
}

Status run_eval(const EvalArgs& a, const CLI::App& cmd) {
  PEFT_TRY(validate(a, cmd));
  if (!a.hypotheses.empty()) return run_e2e_files(a);
  if (is_reference_task(a.task)) return run_reference(a);
  const bool ppl = a.task == "perplexity";
  EvalTask task;
  if (!ppl) {
    PEFT_ASSIGN_OR_RETURN(task, find_eval_task(a.task));
  }
  if (!ppl && a.scoring == "likelihood" && !is_multiple_choice(task))
    return Status::errorf(
        "--scoring likelihood needs a multiple-choice task (aqua, mathqa, boolq, piqa, siqa, "
        "hellaswag, winogrande, arc-e, arc-c, obqa), not '{}'",
        task.name);
  const std::string data = !a.data.empty() ? a.data : default_eval_data(task);
  std::vector<EvalRecord> records;
  std::vector<std::pair<int64_t, std::string>> saved;
  if (!ppl) {
    PEFT_ASSIGN_OR_RETURN(records, load_eval_records(data));
    if (!a.predictions.empty()) {
      PEFT_ASSIGN_OR_RETURN(saved, load_predictions(a.predictions, int64_t(records.size())));
      if (a.limit > 0 && int64_t(saved.size()) > a.limit) saved.resize(size_t(a.limit));
    } else if (a.limit > 0 && int64_t(records.size()) > a.limit) {
      records.resize(size_t(a.limit));
    }
  }
  const int64_t max_new = a.max_new_tokens > 0 ? a.max_new_tokens : (ppl ? 0 : task.default_max_new_tokens);

  EvalOutcome outcome;
  if (!a.predictions.empty()) {
    PEFT_ASSIGN_OR_RETURN(outcome, eval_rescore(task, records, saved));
  } else {
    auto loaded = load_eval_model(a);
    PEFT_TRY(dist::agree(loaded.status(), "loading the model"));
    LoadedModel lm = std::move(*loaded);
    PEFT_TRY(check_causal_lm(*lm.model, "peft eval --task " + a.task));
    const EvalModel m = lm.view();
    if (ppl) {
      PEFT_ASSIGN_OR_RETURN(outcome, eval_perplexity(data, a.limit, m));
    } else if (a.scoring == "likelihood") {
      PEFT_ASSIGN_OR_RETURN(outcome, eval_likelihood(task, records, m));
    } else {
      PEFT_ASSIGN_OR_RETURN(outcome, eval_generate(task, records, m, max_new, a.num_beams, a.batch_size));
    }
  }
  return finish(a, outcome, data, max_new,
                a.chat.on() ? "the model's chat template (user: instruction, input after a blank line)"
                            : "LLM-Adapters evaluate.py generate_prompt");
}
}  // namespace

void add_eval(CLI::App& app, Action& action) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* sub = app.add_subcommand("eval", "evaluate a model (and adapter) on an LLM-Adapters, GLUE or E2E task");
  sub->add_option("--model", args->model, "model folder (not needed with --predictions)");
  sub->add_option("--adapter", args->adapter, "adapter to apply: a PEFT folder or a GGUF LoRA file");
  sub->add_option("--adapter-scale", args->adapter_scale,
                  "multiply the LoRA update by this (llama.cpp's --lora-scaled; default 1)");
  sub->add_option("--task", args->task, "task: " + eval_task_names() + ", " + verbal_task_names() + ", perplexity")
      ->required();
  sub->add_option(
      "--data", args->data,
      "test file (default under $PEFT_SHARED_DIR or ../shared: data/datasets/llm_adapters/dataset/<task>/test.json, "
      "glue/<SST-2|CoLA|RTE|STS-B>/dev.tsv, e2e/test.txt)");
  sub->add_option("--limit", args->limit, "evaluate the first N records only");
  sub->add_option("--out", args->out, "output folder (new or empty): results.json + predictions.jsonl")->required();
  sub->add_flag("--overwrite", args->overwrite,
                "replace an existing output: the files this command writes (others in the folder are kept)");
  sub->add_option("--max-new-tokens", args->max_new_tokens,
                  "generation limit (default 256 math, 32 commonsense, 8 GLUE, 64 e2e)");
  sub->add_option("--num-beams", args->num_beams, "beam width (default 1: greedy; LLM-Adapters used 4)");
  sub->add_option("--length-penalty", args->beam.length_penalty,
                  "beam search: score = sum logprob / length^P (transformers' length_penalty; default 1; AdaMix's "
                  "E2E recipe 0.8)");
  sub->add_option("--no-repeat-ngram-size", args->beam.no_repeat_ngram_size,
                  "beam search: never repeat an n-gram of this size (default 0 = off; AdaMix's E2E recipe 4)");
  sub->add_option("--batch-size", args->batch_size,
                  "greedy generation: prompts decoded together (default 16; same outputs)");
  sub->add_option("--scoring", args->scoring, "generate (default) or likelihood");
  sub->add_option("--predictions", args->predictions, "rescore saved outputs: {\"index\", \"output\"} per line");
  sub->add_option("--hypotheses", args->hypotheses,
                  "--task e2e: score this system output file (one output a line) instead of a model");
  sub->add_option("--references", args->references,
                  "--task e2e with --hypotheses: the references, those of one MR on consecutive lines and a blank "
                  "line between MRs (the E2E scorer's format)");
  sub->add_option("--base-dtype", args->base_dtype,
                  "base weights: f32, bf16 (every matrix), or q8_0|q4_0|q4_k|nf4 (a float checkpoint's projections "
                  "quantized at load); default the checkpoint's own (a quantized GGUF stays quantized)");
  add_chat_flags(*sub, args->chat,
                 "ask each instruction as the user's message in the model's chat template (generated answers of "
                 "math/commonsense tasks)");
  sub->callback([args, sub, &action] { action = [args, sub] { return run_eval(*args, *sub); }; });
}

}  // namespace peft::cli
