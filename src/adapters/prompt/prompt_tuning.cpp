// Prompt tuning: the virtual embeddings and their gradient (summed over the batch).
#include "adapters/prompt/prompt_tuning.h"

#include "kernels/embedding.h"

#include <cstring>

#include "core/rng.h"
#include "tokenizer/tokenizer.h"

namespace peft {

Result<std::unique_ptr<PromptTuningAdapter>> PromptTuningAdapter::create(const Model& model,
                                                                         const PromptTuningConfig& config,
                                                                         uint64_t seed) {
  std::unique_ptr<PromptTuningAdapter> a(new PromptTuningAdapter(model, config));
  const int64_t nv = config.num_virtual_tokens, Ce = model.config.embd_in();
  a->params_.add("prompt_embeddings", {nv, Ce});
  PEFT_TRY(a->params_.finalize(model, kPromptLearningHeadPrefix));
  float* P = a->params_.values();
  if (config.init == "RANDOM") {  // nn.Embedding's own init
    Rng rng(seed);
    for (int64_t i = 0; i < nv * Ce; ++i) P[i] = rng.normal();
    return a;
  }
  // TEXT: the embeddings of the text's tokens, repeated or cut to nv (PEFT's rule).
  PEFT_ASSIGN_OR_RETURN(auto tok, load_tokenizer(model.path));
  std::vector<int32_t> ids = tok->encode(config.init_text, true);  // special tokens included, as tokenizer(text)
  if (ids.empty()) return Status::error("prompt_tuning_init_text encodes to no tokens");
  std::vector<int32_t> rows(static_cast<size_t>(nv));
  for (int64_t v = 0; v < nv; ++v) {
    rows[size_t(v)] = ids[size_t(v) % ids.size()];
    if (rows[size_t(v)] < 0 || rows[size_t(v)] >= model.config.n_vocab)
      return Status::errorf("prompt_tuning_init_text token {} is outside the vocabulary", rows[size_t(v)]);
  }
  embedding_forward(P, rows.data(), model.tok_embd, nv);  // the rows alone (a quantized table too)
  return a;
}

void PromptTuningAdapter::virtual_embeddings(float* out) {
  std::memcpy(out, params_.values(), size_t(params_.method_numel()) * sizeof(float));
}

// Every row starts with the same virtual tokens, so their gradient sums over the batch.
void PromptTuningAdapter::virtual_embeddings_backward(const float* d, int64_t B, int64_t rows) {
  const int64_t Ce = model_->config.embd_in(), n = config_.num_virtual_tokens * Ce;
  float* g = params_.grads();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < n; ++i) g[i] += d[b * rows * Ce + i];
}

}  // namespace peft
