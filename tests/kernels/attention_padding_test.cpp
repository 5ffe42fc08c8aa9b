// Left-padded attention (batched generation): a padded row gives what it gives alone — with a
// prefix in front of the pads, ALiBi, a sliding window, GQA, a prompt or a decode step.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/attention.h"
#include "kernels/kernel_test_util.h"

namespace peft {
namespace {

using namespace ktest;

const float kSlopes[] = {0.5f, 0.25f, 0.125f, 0.0625f};

struct PadCase {
  const char* name;
  int64_t H, Hkv, hd;
  int64_t prefix;  // keys before the pads (prefix tuning / virtual tokens)
  int64_t T;       // queries: the last T positions of every row
  bool alibi;
  int64_t window;
};

class AttentionPadding : public ::testing::TestWithParam<PadCase> {};

TEST_P(AttentionPadding, PaddedRowsMatchEachRowAlone) {
  const PadCase c = GetParam();
  const std::vector<int64_t> lens = {7, 3, 5};  // real tokens per row (T of them are queries)
  const int64_t B = int64_t(lens.size()), L_max = 7, rows = c.prefix + L_max + 2;  // spare capacity
  const int64_t kvw = c.Hkv * c.hd, qw = c.H * c.hd, Tk = c.prefix + L_max;
  // Padded buffers (B, rows, Hkv·hd): pads hold large garbage that must not leak in.
  VecF k = uniform(size_t(B * rows * kvw), 1, -50.f, 50.f), v = uniform(size_t(B * rows * kvw), 2, -50.f, 50.f);
  const VecF q = uniform(size_t(B * c.T * qw), 3);
  std::vector<int32_t> pad(static_cast<size_t>(B));
  std::vector<VecF> k1(static_cast<size_t>(B)), v1(static_cast<size_t>(B));  // each row alone: (prefix + len, Hkv·hd)
  for (int64_t b = 0; b < B; ++b) {
    pad[size_t(b)] = int32_t(L_max - lens[size_t(b)]);
    const int64_t n = c.prefix + lens[size_t(b)];
    k1[size_t(b)] = uniform(size_t(n * kvw), 10 + uint32_t(b));
    v1[size_t(b)] = uniform(size_t(n * kvw), 20 + uint32_t(b));
    for (int64_t j = 0; j < n; ++j) {  // alone: key j; padded: the same key after the pads
      const int64_t dst = j < c.prefix ? j : j + pad[size_t(b)];
      std::copy_n(k1[size_t(b)].begin() + j * kvw, kvw, k.begin() + (b * rows + dst) * kvw);
      std::copy_n(v1[size_t(b)].begin() + j * kvw, kvw, v.begin() + (b * rows + dst) * kvw);
    }
  }
  AttentionShape s;
  s.B = B, s.T = c.T, s.Tk = Tk, s.H = c.H, s.Hkv = c.Hkv, s.hd = c.hd, s.kv_rows = rows;
  s.scale = 1.f / std::sqrt(float(c.hd));
  s.alibi_slopes = c.alibi ? kSlopes : nullptr;
  s.window = c.window;
  s.key_pad = pad.data();
  s.pad_at = c.prefix;
  VecF out(size_t(B * c.T * qw), 9.f), probs(size_t(B * c.H * c.T * Tk), 9.f);
  attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), s);
  VecF out_np(out.size(), 9.f);  // inference (no probs) takes the same path
  attention_forward(out_np.data(), nullptr, q.data(), k.data(), v.data(), s);
  EXPECT_EQ(out, out_np);

  for (int64_t b = 0; b < B; ++b) {
    AttentionShape a = s;
    a.B = 1, a.Tk = c.prefix + lens[size_t(b)], a.kv_rows = 0, a.key_pad = nullptr, a.pad_at = 0;
    VecF alone(size_t(c.T * qw));
    attention_forward(alone.data(), nullptr, q.data() + b * c.T * qw, k1[size_t(b)].data(), v1[size_t(b)].data(), a);
    for (int64_t i = 0; i < c.T * qw; ++i)
      EXPECT_NEAR(out[size_t(b * c.T * qw + i)], alone[size_t(i)], 1e-6f) << "row " << b << " element " << i;
    // Saved probabilities: zero on every pad key, rows sum to 1.
    for (int64_t h = 0; h < c.H; ++h)
      for (int64_t t = 0; t < c.T; ++t) {
        const float* p = probs.data() + ((b * c.H + h) * c.T + t) * Tk;
        double sum = 0;
        for (int64_t j = 0; j < Tk; ++j) sum += p[j];
        EXPECT_NEAR(sum, 1.0, 1e-5);
        for (int64_t j = c.prefix; j < c.prefix + pad[size_t(b)]; ++j) EXPECT_EQ(p[j], 0.f) << "pad key " << j;
      }
  }
}

// A query that is itself a pad (the prompt forward of a padded row) sees nothing: zero output,
// zero probabilities, and no NaN from an empty softmax.
TEST(AttentionPaddingQueries, PadQueriesGiveZeros) {
  const int64_t B = 2, T = 5, H = 2, hd = 4, w = H * hd;
  const VecF q = uniform(size_t(B * T * w), 1), k = uniform(size_t(B * T * w), 2), v = uniform(size_t(B * T * w), 3);
  const int32_t pad[] = {0, 3};
  AttentionShape s;
  s.B = B, s.T = T, s.Tk = T, s.H = H, s.Hkv = H, s.hd = hd, s.scale = 0.5f, s.key_pad = pad;
  VecF out(size_t(B * T * w), 9.f), probs(size_t(B * H * T * T), 9.f);
  attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), s);
  for (float x : out) EXPECT_TRUE(std::isfinite(x));
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t i = 0; i < w; ++i) EXPECT_EQ(out[size_t((T + t) * w + i)], 0.f) << "pad query " << t;
  for (int64_t h = 0; h < H; ++h)
    for (int64_t t = 0; t < 3; ++t)
      for (int64_t j = 0; j < T; ++j) EXPECT_EQ(probs[size_t(((H + h) * T + t) * T + j)], 0.f);
  // Row 0 has no pads: same as with no padding at all.
  AttentionShape plain = s;
  plain.key_pad = nullptr;
  VecF ref(out.size());
  attention_forward(ref.data(), nullptr, q.data(), k.data(), v.data(), plain);
  for (int64_t i = 0; i < T * w; ++i) EXPECT_EQ(out[size_t(i)], ref[size_t(i)]);
}

const PadCase kPadCases[] = {
    {"prompt_mha", 2, 2, 4, 0, 3, false, 0},         {"decode_gqa", 4, 2, 3, 0, 1, false, 0},
    {"prefix_keys", 2, 1, 4, 4, 2, false, 0},        {"alibi", 4, 4, 4, 0, 3, true, 0},
    {"alibi_prefix", 4, 2, 4, 3, 1, true, 0},        {"window", 2, 2, 4, 0, 3, false, 3},
    {"window_prefix_alibi", 4, 4, 3, 2, 2, true, 4},
};

INSTANTIATE_TEST_SUITE_P(Kernels, AttentionPadding, testing::ValuesIn(kPadCases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace peft
