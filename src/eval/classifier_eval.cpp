// GLUE through the classification head.
#include "eval/classifier_eval.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "data/batching.h"
#include "data/classifier_examples.h"
#include "data/glue_e2e.h"
#include "eval/reference_tasks.h"
#include "model/decoder.h"

namespace peft {

Result<EvalOutcome> eval_glue_classifier(std::string_view task, const std::string& path, const EvalModel& m,
                                         int64_t batch_size, int64_t max_len, int64_t limit) {
  const Model& model = *m.model;
  if (model.task.task != TaskType::SeqCls)
    return Status::errorf("the model has no sequence-classification head (its head: {})",
                          task_type_name(model.task.task));
  PEFT_ASSIGN_OR_RETURN(VerbalFile file, load_verbal_file(task, path));
  PEFT_ASSIGN_OR_RETURN(std::vector<ReferenceItem> items, load_reference_items(task, path));
  if (limit > 0 && int64_t(file.rows.size()) > limit) {
    file.rows.resize(size_t(limit));
    items.resize(size_t(limit));
  }
  PEFT_ASSIGN_OR_RETURN(std::vector<TokenizedExample> examples,
                        classifier_examples(*m.tok, file, model.task, std::min(max_len, model.config.n_ctx), path));
  const int64_t K = model.task.num_labels, n = int64_t(examples.size());
  const int32_t pad = model.config.pad_id >= 0 ? model.config.pad_id : 0;
  std::vector<std::pair<int64_t, std::string>> outputs;
  std::vector<std::vector<float>> logits(static_cast<size_t>(n));
  int64_t truncated = 0, longest = 1;
  for (const TokenizedExample& e : examples) {
    truncated += e.truncated;
    longest = std::max<int64_t>(longest, int64_t(e.ids.size()));
  }
  // One decoder for every batch, sized for the longest row; batches are collated as training's.
  Decoder dec(model, std::min(batch_size, std::max<int64_t>(n, 1)), longest, m.hooks);
  std::vector<int64_t> idx;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t B = std::min(batch_size, n - start);
    idx.resize(size_t(B));
    std::iota(idx.begin(), idx.end(), start);
    const MicroBatch mb = collate(examples, idx, pad);
    TokenInputs in;
    in.token_types = mb.token_types.data();
    in.seq_lens = mb.lengths.data();
    dec.forward_task(mb.ids.data(), nullptr, mb.B, mb.T, false, in);
    for (int64_t b = 0; b < B; ++b) {
      const float* z = dec.task_logits() + b * K;
      logits[size_t(start + b)].assign(z, z + K);
      std::string out;
      if (file.task->kind == VerbalKind::Score) {
        out = fmt::format("{}", z[0]);
      } else {
        out = file.task->label_names[size_t(std::max_element(z, z + K) - z)];
      }
      outputs.emplace_back(start + b, std::move(out));
    }
    std::fprintf(stderr, "%.*s: classified %lld/%lld\n", int(task.size()), task.data(),
                 static_cast<long long>(start + B), static_cast<long long>(n));
  }
  PEFT_ASSIGN_OR_RETURN(EvalOutcome out, score_reference_items(task, items, outputs));
  for (int64_t i = 0; i < n; ++i) out.predictions[size_t(i)]["logits"] = logits[size_t(i)];
  out.results["scoring"] = "classifier";
  out.results["truncated"] = truncated;
  return out;
}

}  // namespace peft
