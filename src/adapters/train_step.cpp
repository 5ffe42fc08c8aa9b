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
    out.loss = b.task_labels ? dec_.forward_task(b.ids, b.task_labels, b.B, b.T, /*want_grad=*/true, b.inputs)
                             : dec_.forward(b.ids, b.labels, b.B, b.T, /*want_grad=*/true, b.inputs);
    if (dec_.loss_tokens() > 0) dec_.backward();
    return out;
  }

 private:
  Decoder& dec_;
  Adapter& adapter_;
};

}  // namespace

Status Adapter::merge(Model& model) const {
  PEFT_TRY(merge_into(model));
  for (size_t i = 0; i < model.head.size(); ++i) {
    const HeadLayerParams* p = params().head_layer(int64_t(i));
    if (!p) continue;
    Model::HeadLayer& layer = model.head[i];
    const int64_t out = layer.spec.out, in = layer.spec.in;
    OwnedTensor w(DType::F32, {out, in}), b(DType::F32, {out});
    std::copy(p->w, p->w + out * in, w.f32());
    std::copy(p->b, p->b + out, b.f32());
    layer.lin.w = w.view();
    layer.lin.b = b.view();
    model.owned.push_back(std::move(w));
    model.owned.push_back(std::move(b));
  }
  return Status::ok();
}

std::unique_ptr<TrainStep> Adapter::make_train_step(Decoder& dec) {
  return std::make_unique<SinglePassStep>(dec, *this);
}

}  // namespace peft
