// Tests of LayerNorm and RMSNorm: forward vs a double reference, backward by finite differences.
#include "kernels/norms.h"

#include <gtest/gtest.h>

#include <string>

#include "kernels/kernel_test_util.h"

namespace peft {
namespace {

using namespace ktest;

struct NormCase {
  bool rms;
  int64_t N, C;
  bool bias;  // LayerNorm only
};

constexpr float kEps = 1e-5f;

// x, w, b → out in double (b empty for none).
VecD norm_ref(const NormCase& c, const VecD& x, const VecD& w, const VecD& b) {
  VecD out(x.size());
  for (int64_t n = 0; n < c.N; ++n) {
    const double* xr = &x[size_t(n * c.C)];
    double mu = 0.0, ms = 0.0;
    for (int64_t i = 0; i < c.C; ++i) mu += xr[i];
    mu /= double(c.C);
    for (int64_t i = 0; i < c.C; ++i) {
      const double d = c.rms ? xr[i] : xr[i] - mu;
      ms += d * d;
    }
    const double r = 1.0 / std::sqrt(ms / double(c.C) + double(kEps));
    for (int64_t i = 0; i < c.C; ++i) {
      const double xh = (c.rms ? xr[i] : xr[i] - mu) * r;
      out[size_t(n * c.C + i)] = xh * w[size_t(i)] + (b.empty() ? 0.0 : b[size_t(i)]);
    }
  }
  return out;
}

class NormTest : public testing::TestWithParam<NormCase> {
 protected:
  void SetUp() override {
    const auto c = GetParam();
    // An offset makes the mean non-zero, so LayerNorm's centring matters.
    x = uniform(size_t(c.N * c.C), 1, -1.f, 2.f);
    w = uniform(size_t(c.C), 2, 0.5f, 1.5f);
    b = c.bias ? uniform(size_t(c.C), 3) : VecF{};
    R = uniform(x.size(), 4);
  }
  void forward(VecF& out, VecF& mean, VecF& rstd) {
    const auto c = GetParam();
    out.assign(x.size(), 0.f);
    mean.assign(size_t(c.N), 0.f);
    rstd.assign(size_t(c.N), 0.f);
    if (c.rms)
      rmsnorm_forward(out.data(), rstd.data(), x.data(), w.data(), c.N, c.C, kEps);
    else
      layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), c.bias ? b.data() : nullptr, c.N, c.C,
                        kEps);
  }
  VecF x, w, b, R;
};

TEST_P(NormTest, ForwardMatchesReference) {
  const auto c = GetParam();
  VecF out, mean, rstd;
  forward(out, mean, rstd);
  EXPECT_LT(rel_err(out, norm_ref(c, to_d(x), to_d(w), to_d(b))), 1e-5);
}

TEST_P(NormTest, BackwardMatchesFiniteDifferences) {
  const auto c = GetParam();
  VecF out, mean, rstd;
  forward(out, mean, rstd);
  const VecF gx0 = uniform(x.size(), 5, -.5f, .5f), gw0 = uniform(w.size(), 6, -.5f, .5f),
             gb0 = uniform(size_t(c.C), 7, -.5f, .5f);
  VecF dx = gx0, dw = gw0, db = gb0;
  if (c.rms)
    rmsnorm_backward(dx.data(), dw.data(), R.data(), x.data(), w.data(), rstd.data(), c.N, c.C);
  else
    layernorm_backward(dx.data(), dw.data(), c.bias ? db.data() : nullptr, R.data(), x.data(), w.data(), mean.data(),
                       rstd.data(), c.N, c.C);
  const VecD xd = to_d(x), wd = to_d(w), bd = to_d(b), Rd = to_d(R);
  const VecD gx = fd_grad([&](const VecD& v) { return norm_ref(c, v, wd, bd); }, xd, Rd);
  const VecD gw = fd_grad([&](const VecD& v) { return norm_ref(c, xd, v, bd); }, wd, Rd);
  EXPECT_LT(rel_err(added(dx, gx0), gx), 2e-5);
  EXPECT_LT(rel_err(added(dw, gw0), gw), 2e-5);
  if (c.bias) {
    const VecD gb = fd_grad([&](const VecD& v) { return norm_ref(c, xd, wd, v); }, bd, Rd);
    EXPECT_LT(rel_err(added(db, gb0), gb), 2e-5);
  } else {
    EXPECT_EQ(db, gb0);  // untouched when there is no bias
  }
  // Null weight/bias gradients: dx alone, identical.
  VecF dx2 = gx0;
  if (c.rms)
    rmsnorm_backward(dx2.data(), nullptr, R.data(), x.data(), w.data(), rstd.data(), c.N, c.C);
  else
    layernorm_backward(dx2.data(), nullptr, nullptr, R.data(), x.data(), w.data(), mean.data(), rstd.data(), c.N, c.C);
  EXPECT_EQ(dx, dx2);
}

std::vector<NormCase> norm_cases() {
  std::vector<NormCase> v;
  const int64_t shapes[][2] = {{1, 7}, {5, 16}, {3, 300}};
  for (auto& s : shapes) {
    v.push_back({false, s[0], s[1], true});
    v.push_back({false, s[0], s[1], false});
    v.push_back({true, s[0], s[1], false});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Kernels, NormTest, testing::ValuesIn(norm_cases()),
                         [](const testing::TestParamInfo<NormCase>& i) {
                           const auto& c = i.param;
                           return std::string(c.rms ? "rmsnorm" : "layernorm") + (c.bias ? "_bias" : "") + "_N" +
                                  std::to_string(c.N) + "C" + std::to_string(c.C);
                         });

}  // namespace
}  // namespace peft
