// Tests of rotary embeddings: both layouts, partial rotation, arbitrary positions.
#include "kernels/rope.h"

#include <gtest/gtest.h>

#include <string>

#include "kernels/kernel_test_util.h"

namespace peft {
namespace {

using namespace ktest;

struct RopeCase {
  const char* name;
  int64_t N, H, hd, rot;
  RopeLayout layout;
  float theta;
};

const int32_t kPositions[] = {0, 5, 17, 1000, 3, 4095, 1};

// The angle as Hugging Face computes it (fp32 inv_freq and fp32 product); the rest in double.
double angle(const RopeCase& c, int32_t pos, int64_t i) {
  const float inv_freq = 1.0f / powf(c.theta, float(2 * i) / float(c.rot));
  return double(float(pos) * inv_freq);
}

VecD rope_ref(const RopeCase& c, const VecD& x) {
  VecD y = x;
  const int64_t half = c.rot / 2;
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t h = 0; h < c.H; ++h)
      for (int64_t i = 0; i < half; ++i) {
        const double phi = angle(c, kPositions[n], i);
        const int64_t base = (n * c.H + h) * c.hd;
        const int64_t ia = base + (c.layout == RopeLayout::Interleaved ? 2 * i : i);
        const int64_t ib = base + (c.layout == RopeLayout::Interleaved ? 2 * i + 1 : i + half);
        const double a = x[size_t(ia)], b = x[size_t(ib)];
        y[size_t(ia)] = a * std::cos(phi) - b * std::sin(phi);
        y[size_t(ib)] = b * std::cos(phi) + a * std::sin(phi);
      }
  return y;
}

class RopeTest : public testing::TestWithParam<RopeCase> {};

TEST_P(RopeTest, ForwardMatchesReference) {
  const auto c = GetParam();
  const VecF x = uniform(size_t(c.N * c.H * c.hd), 1);
  VecF y = x;
  rope_forward(y.data(), kPositions, c.N, c.H, c.hd, RopeSpec{c.rot, c.theta, c.layout});
  const VecD ref = rope_ref(c, to_d(x));
  EXPECT_LT(rel_err(y, ref), 1e-5);
  // Dimensions past rot_dim pass through bit for bit.
  for (int64_t r = 0; r < c.N * c.H; ++r)
    for (int64_t d = c.rot; d < c.hd; ++d) EXPECT_EQ(y[size_t(r * c.hd + d)], x[size_t(r * c.hd + d)]);
}

TEST_P(RopeTest, BackwardMatchesFiniteDifferences) {
  const auto c = GetParam();
  const VecF x = uniform(size_t(c.N * c.H * c.hd), 2), R = uniform(x.size(), 3);
  VecF dx = R;  // in place: dy becomes dx
  rope_backward(dx.data(), kPositions, c.N, c.H, c.hd, RopeSpec{c.rot, c.theta, c.layout});
  const VecD g = fd_grad([&](const VecD& v) { return rope_ref(c, v); }, to_d(x), to_d(R));
  EXPECT_LT(rel_err(dx, g), 1e-5);
}

const RopeCase kRopeCases[] = {
    {"half_full", 3, 2, 8, 8, RopeLayout::RotateHalf, 10000.f},
    {"half_partial", 7, 3, 10, 6, RopeLayout::RotateHalf, 10000.f},
    {"half_quarter_theta5e5", 4, 2, 16, 4, RopeLayout::RotateHalf, 500000.f},
    {"interleaved_full", 3, 2, 8, 8, RopeLayout::Interleaved, 10000.f},
    {"interleaved_partial", 7, 3, 10, 6, RopeLayout::Interleaved, 10000.f},
    {"interleaved_single", 1, 1, 6, 2, RopeLayout::Interleaved, 10000.f},
};

INSTANTIATE_TEST_SUITE_P(Kernels, RopeTest, testing::ValuesIn(kRopeCases),
                         [](const testing::TestParamInfo<RopeCase>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace peft
