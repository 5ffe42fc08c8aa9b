// The two-pass consistency step.
#include "adapters/adamix/consistency_step.h"

#include "kernels/consistency_kl.h"

namespace peft {

ConsistencyStep consistency_step(Decoder& dec1, Decoder& dec2, Adapter& adapter, const AdapterRunMode& mode1,
                                 const AdapterRunMode& mode2, const int32_t* ids, const int32_t* labels, int64_t B,
                                 int64_t T, int64_t vocab, double lambda, std::vector<float>& l1,
                                 std::vector<float>& l2) {
  ConsistencyStep out;
  adapter.set_mode(mode1);
  out.ce = dec1.forward(ids, labels, B, T, true);
  out.loss_tokens = dec1.loss_tokens();
  if (out.loss_tokens == 0) return out;
  adapter.set_mode(mode2);
  dec2.forward(ids, nullptr, B, T, true);
  const int64_t N = B * dec1.seq_len();
  l1.resize(size_t(N * vocab));
  l2.resize(size_t(N * vocab));
  dec1.logits(l1.data());
  dec2.logits(l2.data());
  // The gradients overwrite the logits in place.
  out.consistency = consistency_kl_forward_backward(l1.data(), l2.data(), l1.data(), l2.data(), dec1.targets(), N,
                                                    vocab, float(lambda));
  dec1.add_logits_grad(l1.data());
  dec2.add_logits_grad(l2.data());
  dec2.backward();  // adapter hooks see mode2: pass 2's experts and dropout masks
  adapter.set_mode(mode1);
  dec1.backward();
  return out;
}

ConsistencyStep consistency_task_step(Decoder& dec1, Decoder& dec2, Adapter& adapter, const AdapterRunMode& mode1,
                                      const AdapterRunMode& mode2, const StepBatch& b, double lambda) {
  ConsistencyStep out;
  adapter.set_mode(mode1);
  out.ce = dec1.forward_task(b.ids, b.task_labels, b.B, b.T, true, b.inputs);
  out.loss_tokens = dec1.loss_tokens();
  if (out.loss_tokens == 0) return out;
  adapter.set_mode(mode2);
  dec2.forward_task(b.ids, nullptr, b.B, b.T, true, b.inputs);
  const TaskSpec& task = dec1.model().task;
  const int64_t K = task.num_labels, rows = task_head_rows(dec1.model(), b.B, dec1.seq_len());
  // Rows carrying a loss: a token head's labelled positions (virtual tokens have none).
  std::vector<int32_t> targets(size_t(rows), 0);
  if (task.task == TaskType::TokenCls && task.problem == ProblemType::SingleLabel) {
    const int64_t nv = dec1.seq_len() - b.T;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t p = r % dec1.seq_len() - nv;
      targets[size_t(r)] = p >= 0 && b.task_labels[(r / dec1.seq_len()) * b.T + p] != -100.f ? 0 : -100;
    }
  } else if (task.problem == ProblemType::SingleLabel) {
    for (int64_t r = 0; r < rows; ++r) targets[size_t(r)] = b.task_labels[r] != -100.f ? 0 : -100;
  }
  std::vector<float> d1(size_t(rows * K)), d2(size_t(rows * K));
  out.consistency = consistency_kl_forward_backward(d1.data(), d2.data(), dec1.task_logits(), dec2.task_logits(),
                                                    targets.data(), rows, K, float(lambda));
  dec1.add_task_logits_grad(d1.data());
  dec2.add_task_logits_grad(d2.data());
  dec2.backward();
  adapter.set_mode(mode1);
  dec1.backward();
  return out;
}

namespace {

class ConsistencyTrainStep final : public TrainStep {
 public:
  ConsistencyTrainStep(Decoder& dec, Adapter& adapter, double lambda)
      : dec1_(dec),
        dec2_(dec.model(), dec.max_batch(), dec.max_tokens(), &adapter, dec.options()),
        adapter_(adapter),
        lambda_(lambda) {}

  // The two passes' run modes: pass 1 as the single-pass step would run it, pass 2 with its
  // own dropout and routing seeds.
  StepLoss run(const StepBatch& b, uint64_t pass) override {
    const AdapterRunMode mode1{true, pass, 2 * pass + 1};
    const AdapterRunMode mode2{true, pass ^ 0x9e3779b97f4a7c15ull, 2 * pass + 2, 1};
    const ConsistencyStep cs = b.task_labels
                                   ? consistency_task_step(dec1_, dec2_, adapter_, mode1, mode2, b, lambda_)
                                   : consistency_step(dec1_, dec2_, adapter_, mode1, mode2, b.ids, b.labels, b.B, b.T,
                                                      dec1_.model().config.n_vocab, lambda_, logits1_, logits2_);
    StepLoss out;
    out.loss = cs.ce;
    out.logged.emplace_back("consistency", cs.consistency);
    return out;
  }

 private:
  Decoder& dec1_;
  Decoder dec2_;
  Adapter& adapter_;
  double lambda_;
  std::vector<float> logits1_, logits2_;  // (micro · positions, V) each, sized on first use
};

}  // namespace

std::unique_ptr<TrainStep> make_consistency_train_step(Decoder& dec, Adapter& adapter, double lambda) {
  return std::make_unique<ConsistencyTrainStep>(dec, adapter, lambda);
}

}  // namespace peft
