// Tests of pointwise activations and gated MLPs against double references and finite differences.
#include "kernels/activations.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "kernels/kernel_test_util.h"

namespace peft {
namespace {

using namespace ktest;

double act_ref(Activation a, double x) {
  switch (a) {
    case Activation::GeluTanh:
      return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case Activation::GeluExact:
      return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case Activation::Silu:
      return x / (1.0 + std::exp(-x));
    case Activation::Relu:
      return x > 0.0 ? x : 0.0;
    case Activation::Identity:
      return x;
    case Activation::Tanh:
      return std::tanh(x);
  }
  return 0.0;
}

// Pointwise, so a finite difference per element suffices (and stays O(n)).
double act_grad_fd(Activation a, double x) {
  const double h = 1e-5;
  return (act_ref(a, x + h) - act_ref(a, x - h)) / (2 * h);
}

struct ActCase {
  const char* name;
  Activation act;
  bool gated;
  int64_t n;
};

class ActivationTest : public testing::TestWithParam<ActCase> {};

TEST_P(ActivationTest, ForwardMatchesReference) {
  const auto c = GetParam();
  const VecF x = uniform(size_t(c.n), 1, -5.f, 5.f), up = uniform(size_t(c.n), 2, -2.f, 2.f);
  VecF out(size_t(c.n), 7.f);
  VecD ref(size_t(c.n));
  for (size_t i = 0; i < ref.size(); ++i) ref[i] = act_ref(c.act, x[i]) * (c.gated ? double(up[i]) : 1.0);
  if (c.gated)
    gated_forward(c.act, out.data(), x.data(), up.data(), c.n);
  else
    activation_forward(c.act, out.data(), x.data(), c.n);
  EXPECT_LT(rel_err(out, ref), 1e-6);
  if (!c.gated) {  // out may alias x
    VecF inplace = x;
    activation_forward(c.act, inplace.data(), inplace.data(), c.n);
    EXPECT_EQ(inplace, out);
  }
}

TEST_P(ActivationTest, BackwardMatchesFiniteDifferences) {
  const auto c = GetParam();
  const VecF x = uniform(size_t(c.n), 3, -5.f, 5.f), up = uniform(size_t(c.n), 4, -2.f, 2.f),
             R = uniform(size_t(c.n), 5), g0 = uniform(size_t(c.n), 6, -.5f, .5f),
             gu0 = uniform(size_t(c.n), 7, -.5f, .5f);
  VecF dx = g0, dup = gu0;
  if (c.gated)
    gated_backward(c.act, dx.data(), dup.data(), R.data(), x.data(), up.data(), c.n);
  else
    activation_backward(c.act, dx.data(), R.data(), x.data(), c.n);
  // L = Σ act(x)·up·R: ∂L/∂x by finite differences, ∂L/∂up = act(x)·R exactly.
  VecD gx(size_t(c.n)), gu(size_t(c.n));
  for (size_t i = 0; i < gx.size(); ++i) {
    const double u = c.gated ? double(up[i]) : 1.0;
    gx[i] = act_grad_fd(c.act, x[i]) * u * double(R[i]);
    gu[i] = act_ref(c.act, x[i]) * double(R[i]);
  }
  EXPECT_LT(rel_err(added(dx, g0), gx), 1e-5);
  if (c.gated) {
    EXPECT_LT(rel_err(added(dup, gu0), gu), 1e-5);
  }
}

const ActCase kActCases[] = {
    {"gelu_tanh", Activation::GeluTanh, false, 37},
    {"gelu_exact", Activation::GeluExact, false, 37},
    {"silu", Activation::Silu, false, 37},
    {"relu", Activation::Relu, false, 37},
    {"identity", Activation::Identity, false, 37},
    {"tanh", Activation::Tanh, false, 37},
    {"gated_gelu_tanh", Activation::GeluTanh, true, 37},
    {"gated_gelu_exact", Activation::GeluExact, true, 37},
    {"gated_silu", Activation::Silu, true, 37},
    {"gated_relu", Activation::Relu, true, 37},
    {"gated_identity", Activation::Identity, true, 37},
    {"silu_parallel", Activation::Silu, false, 70001},  // above the threading threshold
    {"gated_gelu_tanh_parallel", Activation::GeluTanh, true, 70001},
    {"tanh_parallel", Activation::Tanh, false, 70001},
    {"one_vector", Activation::Silu, false, 16},   // no tail
    {"tail_only", Activation::GeluTanh, true, 5},  // only a partial vector
};

INSTANTIATE_TEST_SUITE_P(Kernels, ActivationTest, testing::ValuesIn(kActCases),
                         [](const testing::TestParamInfo<ActCase>& i) { return std::string(i.param.name); });

TEST(ActivationNames, HuggingFaceNames) {
  EXPECT_EQ(activation_from_hf_name("gelu_new"), Activation::GeluTanh);
  EXPECT_EQ(activation_from_hf_name("gelu_pytorch_tanh"), Activation::GeluTanh);
  EXPECT_EQ(activation_from_hf_name("gelu_fast"), Activation::GeluTanh);
  EXPECT_EQ(activation_from_hf_name("gelu"), Activation::GeluExact);
  EXPECT_EQ(activation_from_hf_name("silu"), Activation::Silu);
  EXPECT_EQ(activation_from_hf_name("swish"), Activation::Silu);
  EXPECT_EQ(activation_from_hf_name("relu"), Activation::Relu);
  EXPECT_EQ(activation_from_hf_name("identity"), Activation::Identity);
  EXPECT_EQ(activation_from_hf_name("linear"), Activation::Identity);
  EXPECT_EQ(activation_from_hf_name("tanh"), std::nullopt);
  EXPECT_EQ(activation_from_hf_name(""), std::nullopt);
}

}  // namespace
}  // namespace peft
