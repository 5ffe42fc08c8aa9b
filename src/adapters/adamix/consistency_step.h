// One micro-batch of a consistency-regularised step (AdaMix): two routed passes, CE on the
// first, λ · symmetric KL between them, backward through both.
#pragma once
#include <vector>

#include "adapters/adapter.h"
#include "model/decoder.h"

namespace peft {

struct ConsistencyStep {
  float ce = 0;            // cross-entropy of pass 1 (mean over its loss-bearing tokens)
  double consistency = 0;  // ½[KL(p1‖p2) + KL(p2‖p1)] mean over the same tokens (unweighted)
  int64_t loss_tokens = 0;
};

// loss = CE(pass 1) + λ · ½[KL(p1 ‖ sg p2) + KL(p2 ‖ sg p1)]: pass 1 runs under mode1 on dec1
// (with labels), pass 2 under mode2 on dec2 (same ids, no labels); both logits are
// materialised into l1, l2 (resized as needed); each pass's backward runs under its own mode,
// so the adapter's parameter gradients accumulate CE + λ·consistency. Nothing runs backward
// when no position carries a loss. dec1, dec2 must both use `adapter` as their hooks.
// mode1.pass and mode2.pass must differ (0 and 1): pass 2's forward and backward run between
// pass 1's, and adapters that keep activations (AdaMix over bottleneck adapters) keep one set
// per pass.
ConsistencyStep consistency_step(Decoder& dec1, Decoder& dec2, Adapter& adapter, const AdapterRunMode& mode1,
                                 const AdapterRunMode& mode2, const int32_t* ids, const int32_t* labels, int64_t B,
                                 int64_t T, int64_t vocab, double lambda, std::vector<float>& l1,
                                 std::vector<float>& l2);

// The same for a model with a task head (AdaMix's NLU recipe): CE (or the task's loss) of
// pass 1's head, λ · symmetric KL between the two passes' class distributions over the
// labelled rows (all rows for multi-label and regression heads; one regression output has a
// one-point distribution and no KL), backward through both.
ConsistencyStep consistency_task_step(Decoder& dec1, Decoder& dec2, Adapter& adapter, const AdapterRunMode& mode1,
                                      const AdapterRunMode& mode2, const StepBatch& batch, double lambda);

// AdaMix's training step (Adapter::make_train_step when λ > 0): consistency_step on the run's
// decoder and a second one of the same size; logs the unweighted KL as "consistency".
std::unique_ptr<TrainStep> make_consistency_train_step(Decoder& dec, Adapter& adapter, double lambda);

}  // namespace peft
