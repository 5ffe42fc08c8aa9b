// DeBERTa's disentangled attention: the log buckets against torch's values, the forward
// against a double reference, the backward against finite differences of that reference.
#include "kernels/disentangled_attention.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kernels/kernel_test_util.h"

namespace peft {
namespace {

using namespace ktest;

// make_log_bucket_position evaluated by torch 1.13 (transformers 4.31's function, float32).
struct BucketCase {
  int64_t buckets, max_position;
  std::vector<std::pair<int64_t, int64_t>> want;  // (distance, bucket)
};
const BucketCase kBuckets[] = {
    {16,
     64,
     {{-70, -16},
      {-64, -16},
      {-61, -15},
      {-46, -14},
      {-34, -13},
      {-25, -12},
      {-19, -11},
      {-13, -10},
      {-10, -9},
      {-7, -7},
      {-1, -1},
      {0, 0},
      {8, 8},
      {11, 10},
      {17, 11},
      {29, 13},
      {47, 15},
      {65, 16}}},
    {256,
     512,
     {{-1000, -317},
      {-511, -255},
      {-300, -207},
      {-129, -129},
      {-128, -128},
      {-5, -5},
      {0, 0},
      {128, 128},
      {129, 129},
      {200, 169},
      {300, 207},
      {400, 233},
      {511, 255},
      {4000, 444}}},
};

TEST(DisentangledAttention, LogBucketsMatchTorch) {
  for (const BucketCase& c : kBuckets)
    for (auto [d, want] : c.want) EXPECT_EQ(relative_bucket(d, c.buckets, c.max_position), want) << d;
  EXPECT_EQ(relative_bucket(-300, 0, 512), -300);  // no buckets: the distance itself
}

struct DaCase {
  const char* name;
  int64_t B, T, H, hd;
  int64_t span, buckets, max_position;
  bool c2p, p2c;
  std::vector<int32_t> lens;  // empty: every row full
};

class DisentangledAttentionTest : public testing::TestWithParam<DaCase> {
 protected:
  DisentangledShape shape() const {
    const DaCase& c = GetParam();
    DisentangledShape s;
    s.B = c.B, s.T = c.T, s.H = c.H, s.hd = c.hd, s.span = c.span, s.buckets = c.buckets;
    s.max_position = c.max_position, s.c2p = c.c2p, s.p2c = c.p2c;
    s.scale = float(1.0 / std::sqrt(double(c.hd) * (1 + c.c2p + c.p2c)));
    s.key_len = c.lens.empty() ? nullptr : c.lens.data();
    return s;
  }
  // All inputs packed [q | k | v | pos_q | pos_k] so one finite-difference loop covers them.
  size_t tokens() const { return size_t(GetParam().B * GetParam().T * GetParam().H * GetParam().hd); }
  size_t rel_size() const { return size_t(2 * GetParam().span * GetParam().H * GetParam().hd); }

  // out in double, straight from the definition: materialised scores and the m_i·m_j mask.
  VecD reference(const VecD& x) const {
    const DaCase& c = GetParam();
    const DisentangledShape s = shape();
    const int64_t D = c.H * c.hd, n = int64_t(tokens());
    const double* q = x.data();
    const double *k = q + n, *v = k + n, *pq = v + n, *pk = pq + int64_t(rel_size());
    VecD out(size_t(n), 0.0);
    for (int64_t b = 0; b < c.B; ++b)
      for (int64_t h = 0; h < c.H; ++h) {
        const int64_t len = c.lens.empty() ? c.T : c.lens[size_t(b)];
        for (int64_t i = 0; i < len; ++i) {
          VecD sc(static_cast<size_t>(len));
          double mx = -1e300;
          for (int64_t j = 0; j < len; ++j) {
            const int64_t r = relative_row(i - j, s);
            double raw = 0.0;
            for (int64_t d = 0; d < c.hd; ++d) {
              const double qi = q[(b * c.T + i) * D + h * c.hd + d], kj = k[(b * c.T + j) * D + h * c.hd + d];
              raw += qi * kj;
              if (c.c2p) raw += qi * pk[r * D + h * c.hd + d];
              if (c.p2c) raw += kj * pq[r * D + h * c.hd + d];
            }
            sc[size_t(j)] = raw * double(s.scale);
            mx = std::max(mx, sc[size_t(j)]);
          }
          double sum = 0.0;
          for (auto& e : sc) sum += e = std::exp(e - mx);
          for (int64_t j = 0; j < len; ++j)
            for (int64_t d = 0; d < c.hd; ++d)
              out[size_t((b * c.T + i) * D + h * c.hd + d)] +=
                  sc[size_t(j)] / sum * v[(b * c.T + j) * D + h * c.hd + d];
        }
      }
    return out;
  }
};

TEST_P(DisentangledAttentionTest, ForwardMatchesReferenceAndBackwardMatchesFiniteDifferences) {
  const DaCase& c = GetParam();
  const DisentangledShape s = shape();
  const size_t n = tokens(), nr = rel_size();
  const VecF x = uniform(3 * n + 2 * nr, 7, -1.5f, 1.5f);
  const float* q = x.data();
  const float *k = q + n, *v = k + n, *pq = v + n, *pk = pq + nr;
  VecF out(n, 9.f), lse(size_t(c.B * c.H * c.T));
  disentangled_attention_forward(out.data(), lse.data(), q, k, v, pq, pk, s);
  const VecD want = reference(to_d(x));
  EXPECT_LT(rel_err(out, want), 2e-6);
  for (int64_t b = 0; b < c.B; ++b)  // pad queries give zero rows
    for (int64_t i = c.lens.empty() ? c.T : c.lens[size_t(b)]; i < c.T; ++i)
      for (int64_t e = 0; e < c.H * c.hd; ++e) EXPECT_EQ(out[size_t((b * c.T + i) * c.H * c.hd + e)], 0.f);

  // L = Σ out·R; the gradient buffers start non-zero to prove accumulation.
  const VecF R = uniform(n, 8);
  const VecF before = uniform(x.size(), 9, -0.5f, 0.5f);
  VecF g = before;
  float* dq = g.data();
  float *dk = dq + n, *dv = dk + n, *dpq = dv + n, *dpk = dpq + nr;
  disentangled_attention_backward(dq, dk, dv, dpq, dpk, R.data(), q, k, v, pq, pk, lse.data(), s);
  const VecD fd = fd_grad([&](const VecD& xd) { return reference(xd); }, to_d(x), to_d(R));
  EXPECT_LT(rel_err(added(g, before), fd), 2e-5);
  // A term that is off leaves its embedding's gradient untouched.
  for (size_t i = 0; i < nr; ++i) {
    if (!c.p2c) {
      EXPECT_EQ(dpq[i], before[3 * n + i]);
    }
    if (!c.c2p) {
      EXPECT_EQ(dpk[i], before[3 * n + nr + i]);
    }
  }
}

// Spans small enough that distances reach the clamp at both ends; buckets 4 with max 8 put
// distances ≥ 3 in log buckets.
INSTANTIATE_TEST_SUITE_P(Shapes, DisentangledAttentionTest,
                         testing::Values(DaCase{"both_terms_full", 1, 5, 2, 4, 8, 0, 8, true, true, {}},
                                         DaCase{"both_terms_clamped_padded", 2, 7, 2, 3, 3, 0, 3, true, true, {7, 4}},
                                         DaCase{"log_buckets_padded", 3, 9, 1, 4, 4, 4, 8, true, true, {9, 2, 6}},
                                         DaCase{"c2p_only", 2, 6, 3, 2, 4, 4, 6, true, false, {6, 3}},
                                         DaCase{"p2c_only", 2, 6, 2, 2, 4, 0, 4, false, true, {1, 6}},
                                         DaCase{"content_only", 2, 5, 2, 4, 2, 0, 2, false, false, {5, 3}},
                                         // relative_attention false: no relative embeddings at all.
                                         DaCase{"no_span", 2, 4, 2, 4, 0, 0, 0, false, false, {4, 2}}),
                         [](const testing::TestParamInfo<DaCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace peft
