// Shared pieces of the adapter fixture tests: the fixture batch and tolerance checks.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "model/decoder.h"
#include "test_paths.h"

namespace peft::test {

struct FixtureBatch {
  int64_t B = 0, T = 0;
  std::vector<int32_t> ids, labels;  // (B, T) Hugging Face labels (the decoder shifts)
};

inline FixtureBatch read_fixture_batch(const SafetensorsFile& io) {
  FixtureBatch b;
  const Tensor* ids = io.find("input_ids");
  const Tensor* labels = io.find("labels");
  EXPECT_TRUE(ids && labels) << io.path();
  b.B = ids->dim(0);
  b.T = ids->dim(1);
  b.ids.resize(size_t(b.B * b.T));
  std::vector<int32_t> lab(b.ids.size());
  for (size_t i = 0; i < b.ids.size(); ++i) {
    b.ids[i] = int32_t(ids->i64()[i]);
    lab[i] = int32_t(labels->i64()[i]);
  }
  b.labels = std::move(lab);
  return b;
}

// max|g − ref| ≤ rel · max|ref| (the fixtures README's gradient check).
inline void expect_close_rel(const float* g, const Tensor& ref, double rel, const std::string& what) {
  double peak = 0, err = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    peak = std::fmax(peak, std::fabs(double(ref.f32()[i])));
    err = std::fmax(err, std::fabs(double(g[i]) - double(ref.f32()[i])));
  }
  EXPECT_LE(err, rel * peak) << what << " (max err " << err << ", peak " << peak << ")";
  ::testing::Test::RecordProperty("grad_rel_err:" + what, std::to_string(peak > 0 ? err / peak : 0.0));
}

// The README's AdamW endpoint check: ‖Δ‖/‖final_ref − initial‖ ≤ 5e-2 and at most 1 % of
// elements off by more than 1e-3.
inline void expect_adamw_endpoint(const float* got, const Tensor& ref, const Tensor& initial, const std::string& what) {
  double diff2 = 0, move2 = 0;
  int64_t far = 0;
  const int64_t n = ref.numel();
  std::vector<float> init(static_cast<size_t>(n));
  convert_to_f32(init.data(), initial.data, initial.dtype, size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    const double d = double(got[i]) - double(ref.f32()[i]);
    diff2 += d * d;
    const double mv = double(ref.f32()[i]) - double(init[size_t(i)]);
    move2 += mv * mv;
    far += std::fabs(d) > 1e-3;
  }
  EXPECT_LE(std::sqrt(diff2), 5e-2 * std::sqrt(move2) + 1e-12) << what;
  EXPECT_LE(double(far), 0.01 * double(n)) << what;
}

}  // namespace peft::test
