// Tests of softmax cross-entropy and of the chunked LM head + cross-entropy.
#include "kernels/cross_entropy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "kernels/kernel_test_util.h"
#include "kernels/matmul.h"

namespace peft {
namespace {

using namespace ktest;

// Per-row losses of logits (N, V) in double; ignored rows give 0.
VecD ce_ref(const VecD& l, const std::vector<int32_t>& tg, int64_t V) {
  VecD loss(tg.size(), 0.0);
  for (size_t n = 0; n < tg.size(); ++n) {
    if (tg[n] < 0) continue;
    const double* r = &l[n * size_t(V)];
    double mx = -INFINITY, s = 0.0;
    for (int64_t j = 0; j < V; ++j) mx = std::max(mx, r[j]);
    for (int64_t j = 0; j < V; ++j) s += std::exp(r[j] - mx);
    loss[n] = mx + std::log(s) - r[tg[n]];
  }
  return loss;
}

struct CeCase {
  const char* name;
  int64_t V;
  std::vector<int32_t> targets;
  float offset;  // added to every logit: the max subtraction must keep exp finite
};

class CrossEntropyTest : public testing::TestWithParam<CeCase> {};

TEST_P(CrossEntropyTest, LossAndGradient) {
  const auto& c = GetParam();
  const int64_t N = int64_t(c.targets.size()), V = c.V;
  VecF logits = uniform(size_t(N * V), 1, -4.f, 4.f);
  for (auto& x : logits) x += c.offset;
  const float scale = 0.37f;
  VecF losses(size_t(N), 9.f), dlogits(logits.size(), 9.f);
  cross_entropy_forward_backward(losses.data(), dlogits.data(), logits.data(), c.targets.data(), N, V, scale);
  const VecD ref = ce_ref(to_d(logits), c.targets, V);
  EXPECT_LT(rel_err(losses, ref), 1e-6);
  // d(scale · Σ loss)/d logits by finite differences.
  const VecD g =
      fd_grad([&](const VecD& l) { return ce_ref(l, c.targets, V); }, to_d(logits), VecD(size_t(N), double(scale)));
  EXPECT_LT(rel_err(dlogits, g), 1e-5);
  for (int64_t n = 0; n < N; ++n)
    if (c.targets[size_t(n)] < 0) {
      EXPECT_EQ(losses[size_t(n)], 0.f);
      for (int64_t j = 0; j < V; ++j) EXPECT_EQ(dlogits[size_t(n * V + j)], 0.f);
    }
  // In place (dlogits aliases logits) and loss-only give the same results.
  VecF inplace = logits, losses2(static_cast<size_t>(N)), losses3(static_cast<size_t>(N));
  cross_entropy_forward_backward(losses2.data(), inplace.data(), inplace.data(), c.targets.data(), N, V, scale);
  EXPECT_EQ(inplace, dlogits);
  EXPECT_EQ(losses2, losses);
  cross_entropy_forward_backward(losses3.data(), nullptr, logits.data(), c.targets.data(), N, V, scale);
  EXPECT_EQ(losses3, losses);
}

const CeCase kCeCases[] = {
    {"small_with_ignored", 7, {3, kIgnoreIndex, 0, 6}, 0.f},
    {"vocab50", 50, {49, 12, 0}, 0.f},
    {"large_logits", 20, {5, 19, kIgnoreIndex}, 80.f},
    {"vocab1", 1, {0, 0}, 0.f},
};

INSTANTIATE_TEST_SUITE_P(Kernels, CrossEntropyTest, testing::ValuesIn(kCeCases),
                         [](const testing::TestParamInfo<CeCase>& i) { return std::string(i.param.name); });

struct HeadCase {
  const char* name;
  int64_t N, C, V, chunk;
  bool bias;
  DType wtype;
  float softcap = 0.f;  // Gemma 2's final logit soft-capping
};

class LmHeadTest : public testing::TestWithParam<HeadCase> {};

TEST_P(LmHeadTest, ChunkedEqualsFullAndFiniteDifferences) {
  const auto c = GetParam();
  const VecF h = uniform(size_t(c.N * c.C), 1), w = uniform(size_t(c.V * c.C), 2), b = uniform(size_t(c.V), 3),
             dh0 = uniform(h.size(), 4, -.5f, .5f);
  const std::vector<uint16_t> w16 = to_bf16(w);
  const Tensor W = c.wtype == DType::BF16 ? Tensor(const_cast<uint16_t*>(w16.data()), DType::BF16, {c.V, c.C})
                                          : Tensor(const_cast<float*>(w.data()), DType::F32, {c.V, c.C});
  std::vector<int32_t> tg(size_t(c.N));
  for (int64_t n = 0; n < c.N; ++n) tg[size_t(n)] = int32_t((n * 7 + 3) % c.V);
  tg[1] = kIgnoreIndex;
  const float scale = 0.5f;
  const float* bias = c.bias ? b.data() : nullptr;

  VecF scratch(size_t(c.chunk * c.V)), dh = dh0;
  const double loss =
      lm_head_cross_entropy(dh.data(), h.data(), W, bias, tg.data(), c.N, scale, scratch.data(), c.chunk, c.softcap);
  // The same computation unchunked, with the same kernels.
  VecF logits(size_t(c.N * c.V)), losses(size_t(c.N)), dh_full = dh0, dcap(logits.size(), 1.f);
  linear_forward(logits.data(), h.data(), W, bias, c.N);
  if (c.softcap > 0.f) softcap_forward(logits.data(), dcap.data(), c.N * c.V, c.softcap);
  cross_entropy_forward_backward(losses.data(), logits.data(), logits.data(), tg.data(), c.N, c.V, scale);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] *= dcap[i];
  linear_backward_input(dh_full.data(), logits.data(), W, c.N);
  double full = 0.0;
  for (float l : losses) full += l;
  EXPECT_NEAR(loss, full, 1e-6 * std::abs(full));
  EXPECT_LT(rel_err(dh, to_d(dh_full)), 1e-6);
  // Loss only: same value, dh untouched.
  EXPECT_EQ(
      lm_head_cross_entropy(nullptr, h.data(), W, bias, tg.data(), c.N, scale, scratch.data(), c.chunk, c.softcap),
      loss);

  if (c.wtype != DType::F32) return;  // bf16 rounds h and dlogits; the comparison above covers it
  // Double reference: Σ_n CE(h_n Wᵀ + b) and its finite-difference gradient in h.
  const VecD wd = to_d(w), bd = to_d(b);
  auto total = [&](const VecD& hv) {
    VecD l(size_t(c.N * c.V));
    for (int64_t n = 0; n < c.N; ++n)
      for (int64_t v = 0; v < c.V; ++v) {
        double s = c.bias ? bd[size_t(v)] : 0.0;
        for (int64_t k = 0; k < c.C; ++k) s += hv[size_t(n * c.C + k)] * wd[size_t(v * c.C + k)];
        l[size_t(n * c.V + v)] = c.softcap > 0.f ? c.softcap * std::tanh(s / c.softcap) : s;
      }
    return ce_ref(l, tg, c.V);
  };
  const VecD ref = total(to_d(h));
  double ref_sum = 0.0;
  for (double l : ref) ref_sum += l;
  EXPECT_NEAR(loss, ref_sum, 1e-5 * std::abs(ref_sum));
  const VecD g = fd_grad(total, to_d(h), VecD(size_t(c.N), double(scale)));
  EXPECT_LT(rel_err(added(dh, dh0), g), 2e-5);
}

const HeadCase kHeadCases[] = {
    {"chunk3_of_7_bias", 7, 5, 11, 3, true, DType::F32},
    {"chunk4_of_10", 10, 8, 13, 4, false, DType::F32},
    {"chunk_larger_than_N", 5, 4, 9, 16, true, DType::F32},
    {"chunk1", 4, 6, 7, 1, false, DType::F32},                     // row 1 is a chunk with every target ignored
    {"softcap_chunk3_bias", 7, 5, 11, 3, true, DType::F32, 1.5f},  // logits of |l| ~ 1 bend hard
    {"bf16_chunk5_of_6", 6, 8, 10, 5, true, DType::BF16},
};

INSTANTIATE_TEST_SUITE_P(Kernels, LmHeadTest, testing::ValuesIn(kHeadCases),
                         [](const testing::TestParamInfo<HeadCase>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace peft
