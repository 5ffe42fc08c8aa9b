// Tests of the oneDNN matmul kernels against double-precision references and finite differences.
#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "kernels/kernel_test_util.h"

namespace peft {
namespace {

using namespace ktest;

struct LinearCase {
  int64_t M, N, K;
  bool bias;
  DType wtype;
};

std::string linear_name(const testing::TestParamInfo<LinearCase>& info) {
  const auto& c = info.param;
  return "M" + std::to_string(c.M) + "N" + std::to_string(c.N) + "K" + std::to_string(c.K) + (c.bias ? "_bias" : "") +
         (c.wtype == DType::BF16 ? "_bf16" : "_f32");
}

std::vector<LinearCase> linear_cases() {
  std::vector<LinearCase> v;
  // M ≤ 4 takes the GEMV path (f32 and bf16 weights): vector loops with and without a K tail,
  // threaded above 2^16 weights (1 × 1030 × 80).
  const int64_t shapes[][3] = {{1, 5, 7},    {7, 13, 5},  {3, 1, 1},  {16, 32, 64},
                               {33, 17, 65}, {2, 40, 70}, {4, 9, 32}, {1, 1030, 80}};
  for (auto& s : shapes)
    for (bool bias : {false, true})
      for (DType t : {DType::F32, DType::BF16}) v.push_back({s[0], s[1], s[2], bias, t});
  return v;
}

// y (M, N) = x (M, K) · Wᵀ + b in double.
VecD linear_ref(const VecD& x, const VecD& W, const VecD* b, int64_t M, int64_t N, int64_t K) {
  VecD y(size_t(M * N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = b ? (*b)[size_t(n)] : 0.0;
      for (int64_t k = 0; k < K; ++k) s += x[size_t(m * K + k)] * W[size_t(n * K + k)];
      y[size_t(m * N + n)] = s;
    }
  return y;
}

// A weight tensor in the requested dtype; `vals` returns the values the kernel really sees.
struct Weight {
  VecF f32;
  std::vector<uint16_t> bf16;
  Tensor t;
  VecF vals;
  Weight(const Weight&) = delete;  // t points into this object
  Weight(const VecF& w, int64_t N, int64_t K, DType dt) : f32(w), bf16(to_bf16(w)) {
    vals = dt == DType::BF16 ? bf16_round(w) : w;
    t = dt == DType::BF16 ? Tensor(bf16.data(), DType::BF16, {N, K}) : Tensor(f32.data(), DType::F32, {N, K});
  }
};

class LinearTest : public testing::TestWithParam<LinearCase> {};

TEST_P(LinearTest, ForwardMatchesReference) {
  const auto c = GetParam();
  const VecF x = uniform(size_t(c.M * c.K), 1), w = uniform(size_t(c.N * c.K), 2), b = uniform(size_t(c.N), 3);
  Weight W(w, c.N, c.K, c.wtype);
  VecF y(size_t(c.M * c.N), 99.f);
  linear_forward(y.data(), x.data(), W.t, c.bias ? b.data() : nullptr, c.M);
  // bf16: the kernel rounds x and W to bf16 and accumulates exact products in fp32.
  const VecF xs = c.wtype == DType::BF16 ? bf16_round(x) : x;
  const VecD bd = to_d(b);
  const VecD ref = linear_ref(to_d(xs), to_d(W.vals), c.bias ? &bd : nullptr, c.M, c.N, c.K);
  const double err = rel_err(y, ref);
  RecordProperty("rel_err", sci(err));
  EXPECT_LT(err, 1e-5);
  // A second call reuses the cached primitive and must give the same bits.
  VecF y2(y.size());
  linear_forward(y2.data(), x.data(), W.t, c.bias ? b.data() : nullptr, c.M);
  EXPECT_EQ(y, y2);
}

TEST_P(LinearTest, BackwardInputAccumulates) {
  const auto c = GetParam();
  const VecF x = uniform(size_t(c.M * c.K), 4), w = uniform(size_t(c.N * c.K), 5), R = uniform(size_t(c.M * c.N), 6),
             g0 = uniform(size_t(c.M * c.K), 7, -.5f, .5f);
  Weight W(w, c.N, c.K, c.wtype);
  VecF dx = g0;
  linear_backward_input(dx.data(), R.data(), W.t, c.M);
  VecD want;
  if (c.wtype == DType::F32) {
    // ∂/∂x of Σ (x Wᵀ)·R, by finite differences of the double reference.
    const VecD wd = to_d(w);
    want = fd_grad([&](const VecD& xv) { return linear_ref(xv, wd, nullptr, c.M, c.N, c.K); }, to_d(x), to_d(R));
  } else {
    // The kernel rounds dy to bf16 too: dx = bf16(dy) · bf16(W), exactly in double.
    want.assign(size_t(c.M * c.K), 0.0);
    const VecF rs = bf16_round(R);
    for (int64_t m = 0; m < c.M; ++m)
      for (int64_t k = 0; k < c.K; ++k)
        for (int64_t n = 0; n < c.N; ++n)
          want[size_t(m * c.K + k)] += double(rs[size_t(m * c.N + n)]) * W.vals[size_t(n * c.K + k)];
  }
  const double err = rel_err(added(dx, g0), want);
  RecordProperty("rel_err", sci(err));
  EXPECT_LT(err, 1e-5);
}

// Weight gradients exist for fp32 (adapter) matrices only.
class LinearWeightGradTest : public testing::TestWithParam<LinearCase> {};

TEST_P(LinearWeightGradTest, BackwardWeightAccumulates) {
  const auto c = GetParam();
  const VecF x = uniform(size_t(c.M * c.K), 8), w = uniform(size_t(c.N * c.K), 9), b = uniform(size_t(c.N), 10),
             R = uniform(size_t(c.M * c.N), 11);
  const VecF gw0 = uniform(w.size(), 12, -.5f, .5f), gb0 = uniform(b.size(), 13, -.5f, .5f);
  VecF dW = gw0, db = gb0;
  linear_backward_weight(dW.data(), c.bias ? db.data() : nullptr, R.data(), x.data(), c.M, c.N, c.K);
  const VecD xd = to_d(x), bd = to_d(b), wd = to_d(w);
  const VecD gw = fd_grad([&](const VecD& wv) { return linear_ref(xd, wv, &bd, c.M, c.N, c.K); }, wd, to_d(R));
  EXPECT_LT(rel_err(added(dW, gw0), gw), 1e-5);
  if (c.bias) {
    const VecD gb = fd_grad([&](const VecD& bv) { return linear_ref(xd, wd, &bv, c.M, c.N, c.K); }, bd, to_d(R));
    EXPECT_LT(rel_err(added(db, gb0), gb), 1e-5);
  } else {
    EXPECT_EQ(db, gb0);
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, LinearTest, testing::ValuesIn(linear_cases()), linear_name);

std::vector<LinearCase> f32_linear_cases() {
  std::vector<LinearCase> v;
  for (const auto& c : linear_cases())
    if (c.wtype == DType::F32) v.push_back(c);
  return v;
}
INSTANTIATE_TEST_SUITE_P(Kernels, LinearWeightGradTest, testing::ValuesIn(f32_linear_cases()), linear_name);

// W as a view of the first K columns of a wider (N, K + 3) buffer: the row stride is honoured.
TEST(LinearStrided, ForwardAndBackwardInput) {
  const int64_t M = 4, N = 6, K = 5, ld = K + 3;
  const VecF wide = uniform(size_t(N * ld), 20), x = uniform(size_t(M * K), 21), R = uniform(size_t(M * N), 22);
  VecF w(size_t(N * K));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) w[size_t(n * K + k)] = wide[size_t(n * ld + k)];
  for (DType dt : {DType::F32, DType::BF16}) {
    Weight full(wide, N, ld, dt);
    Tensor view = full.t;
    view.shape[1] = K;  // same rows, fewer columns: stride[0] stays ld
    Weight dense(w, N, K, dt);
    VecF y1(size_t(M * N)), y2(size_t(M * N)), dx1(size_t(M * K), 0.f), dx2(size_t(M * K), 0.f);
    linear_forward(y1.data(), x.data(), view, nullptr, M);
    linear_forward(y2.data(), x.data(), dense.t, nullptr, M);
    // Strided and dense operands may take different oneDNN paths: equal up to summation order.
    EXPECT_LT(rel_err(y1, to_d(y2)), 1e-6);
    linear_backward_input(dx1.data(), R.data(), view, M);
    linear_backward_input(dx2.data(), R.data(), dense.t, M);
    EXPECT_LT(rel_err(dx1, to_d(dx2)), 1e-6);
  }
}

// Concurrent callers share the primitive cache and the stream; results must not interfere.
TEST(LinearThreads, ConcurrentCallsAgree) {
  const int64_t M = 5, N = 9, K = 11;
  const VecF x = uniform(size_t(M * K), 30), w = uniform(size_t(N * K), 31);
  Weight Wf(w, N, K, DType::F32), Wb(w, N, K, DType::BF16);
  VecF yf(size_t(M * N)), yb(size_t(M * N));
  linear_forward(yf.data(), x.data(), Wf.t, nullptr, M);
  linear_forward(yb.data(), x.data(), Wb.t, nullptr, M);
  bool ok[2] = {true, true};
  auto worker = [&](int id) {
    const Weight& W = id ? Wb : Wf;
    const VecF& want = id ? yb : yf;
    VecF y(want.size());
    for (int it = 0; it < 50; ++it) {
      linear_forward(y.data(), x.data(), W.t, nullptr, M);
      if (y != want) ok[id] = false;
    }
  };
  std::thread t0(worker, 0), t1(worker, 1);
  t0.join();
  t1.join();
  EXPECT_TRUE(ok[0]);
  EXPECT_TRUE(ok[1]);
}

struct GemmCase {
  int64_t M, N, K;
  bool ta, tb, acc;
};

std::vector<GemmCase> gemm_cases() {
  std::vector<GemmCase> v;
  const int64_t shapes[][3] = {{1, 4, 3}, {7, 13, 5}, {9, 1, 17}, {32, 24, 40}};
  for (auto& s : shapes)
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (bool acc : {false, true}) v.push_back({s[0], s[1], s[2], ta, tb, acc});
  return v;
}

class GemmTest : public testing::TestWithParam<GemmCase> {};

TEST_P(GemmTest, MatchesReference) {
  const auto c = GetParam();
  const VecF A = uniform(size_t(c.M * c.K), 40), B = uniform(size_t(c.K * c.N), 41),
             C0 = uniform(size_t(c.M * c.N), 42);
  VecF C = C0;
  gemm_f32(C.data(), A.data(), B.data(), GemmShape{c.M, c.N, c.K, c.ta, c.tb, c.acc});
  VecD ref(C.size());
  for (int64_t m = 0; m < c.M; ++m)
    for (int64_t n = 0; n < c.N; ++n) {
      double s = c.acc ? double(C0[size_t(m * c.N + n)]) : 0.0;
      for (int64_t k = 0; k < c.K; ++k) {
        const double a = A[size_t(c.ta ? k * c.M + m : m * c.K + k)];
        const double b = B[size_t(c.tb ? n * c.K + k : k * c.N + n)];
        s += a * b;
      }
      ref[size_t(m * c.N + n)] = s;
    }
  const double err = rel_err(C, ref);
  RecordProperty("rel_err", sci(err));
  EXPECT_LT(err, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Kernels, GemmTest, testing::ValuesIn(gemm_cases()),
                         [](const testing::TestParamInfo<GemmCase>& i) {
                           const auto& c = i.param;
                           return "M" + std::to_string(c.M) + "N" + std::to_string(c.N) + "K" + std::to_string(c.K) +
                                  (c.ta ? "_ta" : "") + (c.tb ? "_tb" : "") + (c.acc ? "_acc" : "");
                         });

}  // namespace
}  // namespace peft
