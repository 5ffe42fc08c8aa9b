// The batch of an encoder fixture's io.safetensors (tests/fixtures/encoders) as the engine takes
// it: ids, token types, each row's length from the right-padded attention mask, the labels.
#pragma once
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "model/token_inputs.h"
#include "test_paths.h"

namespace peft::test {

inline std::string encoder_dir(const std::string& name) { return fixture_dir("local:encoders/" + name); }

struct EncoderBatch {
  int64_t B = 0, T = 0;
  std::vector<int32_t> ids, types, lens;
  std::vector<float> labels;
  TokenInputs inputs() const {
    TokenInputs in;
    in.token_types = types.data();
    in.seq_lens = lens.data();
    return in;
  }
};

inline EncoderBatch read_encoder_batch(const SafetensorsFile& io) {
  EncoderBatch b;
  const Tensor& ids = *io.find("input_ids");
  const Tensor& types = *io.find("token_type_ids");
  const Tensor& mask = *io.find("attention_mask");
  b.B = ids.dim(0);
  b.T = ids.dim(1);
  for (int64_t i = 0; i < b.B * b.T; ++i) {
    b.ids.push_back(int32_t(ids.i64()[i]));
    b.types.push_back(int32_t(types.i64()[i]));
  }
  for (int64_t r = 0; r < b.B; ++r) {
    int32_t n = 0;
    for (int64_t t = 0; t < b.T; ++t) n += int32_t(mask.i64()[r * b.T + t]);
    b.lens.push_back(n);
  }
  const Tensor& labels = *io.find("labels");
  for (int64_t i = 0; i < labels.numel(); ++i)
    b.labels.push_back(labels.dtype == DType::I64 ? float(labels.i64()[i]) : labels.f32()[i]);
  return b;
}

}  // namespace peft::test
