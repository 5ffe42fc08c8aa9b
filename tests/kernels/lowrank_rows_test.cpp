// lowrank_rows_forward against a double-precision reference, and its promise: a row's result
// does not depend on the other rows of the call (bit for bit), for every shape below.
#include "kernels/lowrank_rows.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace peft {
namespace {

struct Shape {
  int64_t N, in, r, out;
};

std::vector<float> randn(int64_t n, std::mt19937& gen) {
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(gen);
  return v;
}

class LowrankRows : public ::testing::TestWithParam<Shape> {};

TEST_P(LowrankRows, MatchesReferenceAndEachRowAlone) {
  const Shape s = GetParam();
  std::mt19937 gen(7);
  const auto x = randn(s.N * s.in, gen), A = randn(s.r * s.in, gen), B = randn(s.out * s.r, gen),
             y0 = randn(s.N * s.out, gen);
  const float scale = 0.75f;
  std::vector<float> y = y0, u(size_t(s.N * s.r));
  lowrank_rows_forward(y.data(), u.data(), x.data(), A.data(), B.data(), scale, s.N, s.in, s.r, s.out);
  for (int64_t n = 0; n < s.N; ++n) {
    std::vector<double> ud(static_cast<size_t>(s.r));
    for (int64_t j = 0; j < s.r; ++j) {
      double acc = 0;
      for (int64_t i = 0; i < s.in; ++i) acc += double(x[size_t(n * s.in + i)]) * A[size_t(j * s.in + i)];
      ud[size_t(j)] = scale * acc;
      EXPECT_NEAR(u[size_t(n * s.r + j)], ud[size_t(j)], 1e-4 * (1 + std::abs(ud[size_t(j)])));
    }
    for (int64_t o = 0; o < s.out; ++o) {
      double want = y0[size_t(n * s.out + o)];
      for (int64_t j = 0; j < s.r; ++j) want += ud[size_t(j)] * B[size_t(o * s.r + j)];
      EXPECT_NEAR(y[size_t(n * s.out + o)], want, 1e-3 * (1 + std::abs(want))) << "row " << n << " out " << o;
    }
    // The row alone: the same bits.
    std::vector<float> y1(y0.begin() + n * s.out, y0.begin() + (n + 1) * s.out), u1(static_cast<size_t>(s.r));
    lowrank_rows_forward(y1.data(), u1.data(), x.data() + n * s.in, A.data(), B.data(), scale, 1, s.in, s.r, s.out);
    EXPECT_EQ(std::memcmp(y1.data(), y.data() + n * s.out, size_t(s.out) * sizeof(float)), 0) << "row " << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, LowrankRows,
                         ::testing::Values(Shape{1, 64, 8, 64}, Shape{5, 37, 3, 19}, Shape{16, 288, 16, 768},
                                           Shape{3, 2048, 1, 5}, Shape{2, 16, 64, 33}));

}  // namespace
}  // namespace peft
