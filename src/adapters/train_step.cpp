// The default training step: one forward and backward per micro-batch.
#include "adapters/adapter.h"
#include "model/decoder.h"

namespace peft {

namespace {

class SinglePassStep final : public TrainStep {
 public:
  SinglePassStep(Decoder& dec, Adapter& adapter) : dec_(dec), adapter_(adapter) {}
  StepLoss run(const StepBatch& b, uint64_t pass) override {
    adapter_.set_mode(AdapterRunMode{true, pass, 2 * pass + 1});
    StepLoss out;
    out.loss = dec_.forward(b.ids, b.labels, b.B, b.T, /*want_grad=*/true, b.inputs);
    if (dec_.loss_tokens() > 0) dec_.backward();
    return out;
  }

 private:
  Decoder& dec_;
  Adapter& adapter_;
};

}  // namespace

std::unique_ptr<TrainStep> Adapter::make_train_step(Decoder& dec) {
  return std::make_unique<SinglePassStep>(dec, *this);
}

}  // namespace peft
