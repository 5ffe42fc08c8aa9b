// The recipe table. Values are the AdaMix repository's (microsoft/AdaMix at f3b6e995 for NLU,
// df5f2d15 for NLG); what the engine does differently is said beside each.
#include "train/presets.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace peft {

const std::vector<TrainPreset>& train_presets() {
  // NLU: one ExpertSoup per layer after the FFN's output dense (inside the residual, before its
  // LayerNorm), 4 experts, the up-projection shared (sharing_up 1, sharing_down 0), GELU,
  // consistency loss 1, AdamW with weight decay 0.1, linear schedule, warmup ratio 0.06, max
  // length 128, batch 64, seed 0. The repository ships these for MNLI only; the paper's
  // per-task table (its appendix) is not in the repository. `.*\.layer\.\d+\.output\.dense`
  // selects the FFN's output dense and not the attention's (attention.output.dense).
  static const std::vector<std::string> nlu = {"--method",
                                               "adamix",
                                               "--adamix-base",
                                               "bottleneck",
                                               "--adamix-experts",
                                               "4",
                                               "--adamix-share-up",
                                               "true",
                                               "--adamix-share-down",
                                               "false",
                                               "--adamix-consistency",
                                               "1",
                                               "--adamix-non-linearity",
                                               "gelu",
                                               "--adamix-target-modules",
                                               R"(.*\.layer\.\d+\.output\.dense)",
                                               "--adamix-adapter-dropout",
                                               "0",
                                               "--weight-decay",
                                               "0.1",
                                               "--lr-scheduler",
                                               "linear",
                                               "--warmup-ratio",
                                               "0.06",
                                               "--cutoff-len",
                                               "128",
                                               "--batch-size",
                                               "64",
                                               "--seed",
                                               "0",
                                               "--data-format",
                                               "glue"};
  auto with = [](std::vector<std::string> base, std::initializer_list<std::string> more) {
    base.insert(base.end(), more);
    return base;
  };
  static const std::vector<TrainPreset> presets = {
      {"adamix-glue-roberta", "microsoft/AdaMix roberta_large_mnli_expert_soup.sh",
       with(nlu, {"--adamix-bottleneck-size", "16", "--learning-rate", "3e-4", "--epochs", "20"})},
      {"adamix-glue-bert", "microsoft/AdaMix bert_base_mnli_expert_soup.sh",
       with(nlu, {"--adamix-bottleneck-size", "48", "--learning-rate", "4e-4", "--epochs", "40"})},
      // NLG (GPT-2 on E2E, run_train_e2e.sh): AdaMix over LoRA r 4, alpha 32 on c_attn, 8 experts,
      // B shared (share_A 0, share_B 1), LoRA dropout 0.1, consistency 100 (symmetric KL × 100),
      // lr 2e-4, 20 epochs, warmup 2000 steps, weight decay 0.01, batch 8, length 512, seed 110.
      // Its label smoothing (0.1) is not implemented here, and its LoRA leaves c_attn's key
      // third alone (enable_lora [q, v]); here LoRA covers the whole fused projection.
      {"adamix-e2e-gpt2",
       "microsoft/AdaMix NLG/run_train_e2e.sh",
       {"--method",
        "adamix",
        "--adamix-base",
        "lora",
        "--adamix-experts",
        "8",
        "--adamix-r",
        "4",
        "--adamix-alpha",
        "32",
        "--adamix-dropout",
        "0.1",
        "--adamix-share-up",
        "true",
        "--adamix-share-down",
        "false",
        "--adamix-consistency",
        "100",
        "--adamix-target-modules",
        "c_attn",
        "--learning-rate",
        "2e-4",
        "--epochs",
        "20",
        "--warmup-steps",
        "2000",
        "--weight-decay",
        "0.01",
        "--lr-scheduler",
        "linear",
        "--batch-size",
        "8",
        "--micro-batch-size",
        "8",
        "--cutoff-len",
        "512",
        "--seed",
        "110",
        "--data-format",
        "e2e"}},
  };
  return presets;
}

std::string train_preset_names() {
  std::vector<std::string> names;
  for (const TrainPreset& p : train_presets()) names.emplace_back(p.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

Result<std::vector<std::string>> expand_train_presets(const std::vector<std::string>& args) {
  // The subcommand is the first argument that is not --threads or its value.
  auto train = args.begin() + (args.empty() ? 0 : 1);
  while (train != args.end() && (*train == "--threads" || train->starts_with("--threads=")))
    train += *train == "--threads" && train + 1 != args.end() ? 2 : 1;
  if (train == args.end() || *train != "train") return args;
  std::vector<std::string> rest, inserted;
  for (auto it = train + 1; it != args.end(); ++it) {
    std::string name;
    if (*it == "--preset") {
      if (it + 1 == args.end()) return Status::error("--preset needs a name: " + train_preset_names());
      name = *++it;
    } else if (it->starts_with("--preset=")) {
      name = it->substr(9);
    } else {
      rest.push_back(*it);
      continue;
    }
    const auto p = std::find_if(train_presets().begin(), train_presets().end(),
                                [&](const TrainPreset& t) { return name == t.name; });
    if (p == train_presets().end())
      return Status::errorf("--preset '{}' is unknown (presets: {})", name, train_preset_names());
    inserted.insert(inserted.end(), p->flags.begin(), p->flags.end());
  }
  // A user's flag that replaces another drops the preset's: --max-steps instead of the preset's
  // --epochs, one warmup form instead of the other (train refuses such pairs when both are given).
  static const std::pair<const char*, const char*> replaces[] = {
      {"--max-steps", "--epochs"}, {"--warmup-steps", "--warmup-ratio"}, {"--warmup-ratio", "--warmup-steps"}};
  for (const auto& pair : replaces) {
    const std::string user = pair.first, preset = pair.second;
    const bool given = std::any_of(rest.begin(), rest.end(),
                                   [&](const std::string& a) { return a == user || a.starts_with(user + "="); });
    if (!given) continue;
    for (size_t i = 0; i + 1 < inserted.size();)
      if (inserted[i] == preset)
        inserted.erase(inserted.begin() + long(i), inserted.begin() + long(i) + 2);
      else
        ++i;
  }
  std::vector<std::string> out(args.begin(), train + 1);
  out.insert(out.end(), inserted.begin(), inserted.end());
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

}  // namespace peft
