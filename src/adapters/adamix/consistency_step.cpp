// The two-pass consistency step.
#include "adapters/adamix/consistency_step.h"

#include "kernels/consistency_kl.h"

namespace peft {

ConsistencyStep consistency_step(Decoder& dec1, Decoder& dec2, Adapter& adapter, const AdapterRunMode& mode1,
                                 const AdapterRunMode& mode2, const int32_t* ids, const int32_t* labels,
                                 int64_t B, int64_t T, int64_t vocab, double lambda, std::vector<float>& l1,
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
  out.consistency = consistency_kl_forward_backward(l1.data(), l2.data(), l1.data(), l2.data(), dec1.targets(),
                                                    N, vocab, float(lambda));
  dec1.add_logits_grad(l1.data());
  dec2.add_logits_grad(l2.data());
  dec2.backward();  // adapter hooks see mode2: pass 2's experts and dropout masks
  adapter.set_mode(mode1);
  dec1.backward();
  return out;
}

}  // namespace peft
