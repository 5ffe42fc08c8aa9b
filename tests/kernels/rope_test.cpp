// Tests of rotary embeddings: both layouts, partial rotation, arbitrary positions.
#include "kernels/rope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/kernel_test_util.h"
#include "model/rope_config.h"

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
  rope_forward(y.data(), kPositions, c.N, c.H, c.hd, RopeSpec::plain(c.rot, c.theta, c.layout));
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
  rope_backward(dx.data(), kPositions, c.N, c.H, c.hd, RopeSpec::plain(c.rot, c.theta, c.layout));
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

// Scaled RoPE is m times a rotation, a linear map: the backward must be its adjoint,
// <R, f(x)> = <fᵀ(R), x>, for every scaling (the attention factor m included); and m scales
// every rotated pair's norm.
TEST(RopeScaledTest, BackwardIsTheAdjointOfTheForward) {
  const int64_t N = 5, H = 2, hd = 12;
  const int32_t pos[N] = {0, 3, 7, 19, 40};
  std::vector<RopeSpec> specs;
  for (RopeScaling kind :
       {RopeScaling::Linear, RopeScaling::Dynamic, RopeScaling::Llama3, RopeScaling::LongRope, RopeScaling::Yarn}) {
    RopeSpec s = RopeSpec::plain(10, 10000.f, RopeLayout::RotateHalf);
    s.scaling = kind;
    s.factor = 4;
    s.max_positions = 8;
    s.original_max_positions = 16;
    s.short_factor = {1, 1.5, 2, 3, 4};
    s.long_factor = {1, 2, 4, 8, 16};
    s.attention_factor = kind == RopeScaling::Yarn || kind == RopeScaling::LongRope ? 1.3f : 1.f;
    specs.push_back(s);
  }
  for (const RopeSpec& s : specs) {
    const VecF x = uniform(size_t(N * H * hd), 11), R = uniform(x.size(), 12);
    VecF y = x, g = R;
    rope_forward(y.data(), pos, N, H, hd, s);
    rope_backward(g.data(), pos, N, H, hd, s);
    double lhs = 0, rhs = 0;
    for (size_t k = 0; k < x.size(); ++k) lhs += double(R[k]) * y[k], rhs += double(g[k]) * x[k];
    EXPECT_NEAR(lhs, rhs, 1e-5 * (std::fabs(lhs) + 1)) << rope_scaling_name(s.scaling);
    // Pair (i, i + 5) of row 1, head 0 keeps its norm times m.
    const size_t r = size_t(1 * H * hd);
    const double before = std::hypot(x[r + 2], x[r + 7]), after = std::hypot(y[r + 2], y[r + 7]);
    EXPECT_NEAR(after, before * s.attention_factor, 1e-5);
  }
}

// Llama 3.1's split: frequencies with wavelength below original/high_freq_factor are kept, above
// original/low_freq_factor divided by factor, and the band between blended (smooth in between).
TEST(RopeScaledTest, Llama3FrequenciesFollowTheThreeBands) {
  RopeSpec s = RopeSpec::plain(16, 10000.f, RopeLayout::RotateHalf);
  s.scaling = RopeScaling::Llama3;
  s.factor = 8;
  s.low_freq_factor = 1;
  s.high_freq_factor = 4;
  s.original_max_positions = 64;
  float plain[8], scaled[8];
  rope_inv_freq(RopeSpec::plain(16, 10000.f, RopeLayout::RotateHalf), 1, plain);
  rope_inv_freq(s, 1, scaled);
  for (int i = 0; i < 8; ++i) {
    const double wavelen = 2 * M_PI / plain[i];
    if (wavelen < 16)
      EXPECT_EQ(scaled[i], plain[i]) << i;
    else if (wavelen > 64)
      EXPECT_FLOAT_EQ(scaled[i], plain[i] / 8) << i;
    else
      EXPECT_TRUE(scaled[i] < plain[i] && scaled[i] > plain[i] / 8) << i;
  }
}

}  // namespace
}  // namespace peft
