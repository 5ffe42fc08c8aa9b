// Tests of attention: MHA, GQA, a KV past, a KV buffer larger than Tk, ALiBi, and the encoders'
// bidirectional attention over right-padded rows (training kernel only).
#include "kernels/attention.h"
#include "kernels/flash_attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "kernels/kernel_test_util.h"

namespace peft {
namespace {

using namespace ktest;

struct AttnCase {
  const char* name;
  int64_t B, T, Tk, H, Hkv, hd, kv_rows;
  bool alibi;
  int64_t window = 0;
  float softcap = 0.f;
  bool bidirectional = false;
  const int32_t* key_len = nullptr;  // (B) with bidirectional
};

const int32_t kKeyLen[] = {5, 2};
const int32_t kKeyLenLong[] = {21, 37};

const float kSlopes[] = {0.5f, 0.25f, 0.125f, 0.0625f};

struct Sizes {
  int64_t rows, q, kv, probs;
};

Sizes sizes(const AttnCase& c) {
  const int64_t rows = c.kv_rows ? c.kv_rows : c.Tk;
  return {rows, c.B * c.T * c.H * c.hd, c.B * rows * c.Hkv * c.hd, c.B * c.H * c.T * c.Tk};
}

AttentionShape shape_of(const AttnCase& c) {
  AttentionShape s;
  s.B = c.B, s.T = c.T, s.Tk = c.Tk, s.H = c.H, s.Hkv = c.Hkv, s.hd = c.hd, s.kv_rows = c.kv_rows;
  s.scale = 1.f / std::sqrt(float(c.hd));
  s.alibi_slopes = c.alibi ? kSlopes : nullptr;
  s.window = c.window;
  s.softcap = c.softcap;
  s.causal = !c.bidirectional;
  s.key_len = c.key_len;
  return s;
}

// Returns out (B, T, H, hd); fills probs (B, H, T, Tk) when given.
VecD attention_ref(const AttnCase& c, const VecD& q, const VecD& k, const VecD& v, VecD* probs = nullptr) {
  const Sizes z = sizes(c);
  const int64_t past = c.Tk - c.T, group = c.H / c.Hkv;
  const double scale = double(1.f / std::sqrt(float(c.hd)));
  VecD out(size_t(z.q), 0.0);
  if (probs) probs->assign(size_t(z.probs), 0.0);
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t h = 0; h < c.H; ++h)
      for (int64_t t = 0; t < c.T; ++t) {
        const int64_t n = c.bidirectional ? (c.key_len ? c.key_len[b] : c.Tk) : past + t + 1, kvh = h / group;
        const int64_t j0 = c.window > 0 && !c.bidirectional ? std::max<int64_t>(0, n - c.window) : 0;
        VecD s(static_cast<size_t>(n), -INFINITY);
        double mx = -INFINITY, sum = 0.0;
        for (int64_t j = j0; j < n; ++j) {
          double d = 0.0;
          for (int64_t e = 0; e < c.hd; ++e)
            d += q[size_t(((b * c.T + t) * c.H + h) * c.hd + e)] *
                 k[size_t(((b * z.rows + j) * c.Hkv + kvh) * c.hd + e)];
          s[size_t(j)] = scale * d + (c.alibi ? double(kSlopes[h]) * double(j) : 0.0);
          if (c.softcap > 0.f) s[size_t(j)] = c.softcap * std::tanh(s[size_t(j)] / c.softcap);
          mx = std::max(mx, s[size_t(j)]);
        }
        for (auto& e : s) sum += (e = std::exp(e - mx));
        for (int64_t j = 0; j < n; ++j) {
          const double p = s[size_t(j)] / sum;
          if (probs) (*probs)[size_t(((b * c.H + h) * c.T + t) * c.Tk + j)] = p;
          for (int64_t e = 0; e < c.hd; ++e)
            out[size_t(((b * c.T + t) * c.H + h) * c.hd + e)] +=
                p * v[size_t(((b * z.rows + j) * c.Hkv + kvh) * c.hd + e)];
        }
      }
  return out;
}

class AttentionTest : public testing::TestWithParam<AttnCase> {
 protected:
  void SetUp() override {
    const Sizes z = sizes(GetParam());
    q = uniform(size_t(z.q), 1, -2.f, 2.f);
    k = uniform(size_t(z.kv), 2, -2.f, 2.f);
    v = uniform(size_t(z.kv), 3);
    R = uniform(size_t(z.q), 4);
  }
  VecF q, k, v, R;
};

// The KV-cached (inference) kernel is causal only: it runs the causal cases.
class CachedAttentionTest : public AttentionTest {};

TEST_P(CachedAttentionTest, ForwardMatchesReference) {
  const auto c = GetParam();
  const Sizes z = sizes(c);
  VecF out(size_t(z.q), 9.f), probs(size_t(z.probs), 9.f);  // 9: masked entries must be zeroed
  attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), shape_of(c));
  VecD pref;
  const VecD ref = attention_ref(c, to_d(q), to_d(k), to_d(v), &pref);
  EXPECT_LT(rel_err(out, ref), 1e-5);
  EXPECT_LT(rel_err(probs, pref), 1e-5);
  for (size_t i = 0; i < pref.size(); ++i) {
    if (pref[i] == 0.0) {
      EXPECT_EQ(probs[i], 0.f) << "masked entry " << i;
    }
  }
  // Inference path (no probs) gives the same output.
  VecF out2(size_t(z.q), 9.f);
  attention_forward(out2.data(), nullptr, q.data(), k.data(), v.data(), shape_of(c));
  EXPECT_EQ(out, out2);
}

// The log-sum-exp kernel used in training: same outputs, and gradients from the saved lse.
TEST_P(AttentionTest, FlashForwardMatchesReference) {
  const auto c = GetParam();
  const Sizes z = sizes(c);
  VecF out(size_t(z.q), 9.f), lse(size_t(c.B * c.H * c.T), 9.f);
  flash_attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), shape_of(c));
  EXPECT_LT(rel_err(out, attention_ref(c, to_d(q), to_d(k), to_d(v))), 1e-5);
  VecF out2(size_t(z.q), 9.f);
  flash_attention_forward(out2.data(), nullptr, q.data(), k.data(), v.data(), shape_of(c));
  EXPECT_EQ(out, out2);
}

// The training backward (there is no other): gradients from the saved lse.
TEST_P(AttentionTest, FlashBackwardMatchesFiniteDifferences) {
  const auto c = GetParam();
  const Sizes z = sizes(c);
  VecF out(size_t(z.q)), lse(size_t(c.B * c.H * c.T));
  flash_attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), shape_of(c));
  const VecF gq0 = uniform(q.size(), 5, -.5f, .5f), gk0 = uniform(k.size(), 6, -.5f, .5f),
             gv0 = uniform(v.size(), 7, -.5f, .5f);
  VecF dq = gq0, dk = gk0, dv = gv0;
  flash_attention_backward(dq.data(), dk.data(), dv.data(), R.data(), q.data(), k.data(), v.data(), lse.data(),
                           shape_of(c));
  const VecD qd = to_d(q), kd = to_d(k), vd = to_d(v), Rd = to_d(R);
  const VecD gq = fd_grad([&](const VecD& x) { return attention_ref(c, x, kd, vd); }, qd, Rd);
  const VecD gk = fd_grad([&](const VecD& x) { return attention_ref(c, qd, x, vd); }, kd, Rd);
  const VecD gv = fd_grad([&](const VecD& x) { return attention_ref(c, qd, kd, x); }, vd, Rd);
  EXPECT_LT(rel_err(added(dq, gq0), gq), 2e-5);
  EXPECT_LT(rel_err(added(dk, gk0), gk), 2e-5);
  EXPECT_LT(rel_err(added(dv, gv0), gv), 2e-5);
  const int64_t row = c.Hkv * c.hd;
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t i = (b * z.rows + c.Tk) * row; i < (b + 1) * z.rows * row; ++i) {
      EXPECT_EQ(dk[size_t(i)], gk0[size_t(i)]);
      EXPECT_EQ(dv[size_t(i)], gv0[size_t(i)]);
    }
}

const AttnCase kAttnCases[] = {
    {"mha", 2, 5, 5, 2, 2, 4, 0, false},
    {"gqa_h4_kv2", 1, 4, 4, 4, 2, 3, 0, false},
    {"mqa_past", 2, 3, 7, 2, 1, 4, 0, false},
    {"gqa_past", 2, 3, 6, 4, 2, 4, 0, false},
    {"gqa_kv_rows", 2, 3, 5, 4, 2, 4, 8, false},
    {"alibi", 1, 4, 6, 4, 4, 5, 0, true},
    {"gqa_past_kv_rows_alibi", 2, 3, 5, 4, 2, 3, 7, true},
    {"decode", 2, 1, 6, 4, 2, 4, 9, true},
    {"sliding_window", 2, 6, 6, 4, 2, 3, 0, false, 3},
    {"sliding_window_past", 1, 3, 7, 2, 1, 4, 9, false, 2},
    {"long_rows_wide_heads", 1, 37, 37, 2, 1, 24, 0, true},  // vector loops with remainders
    // Gemma 2's soft-capping: a cap of 1.5 bends scores of |s| ~ 1 (q, k in [-2, 2]) hard.
    {"softcap", 2, 5, 5, 2, 1, 4, 0, false, 0, 1.5f},
    {"softcap_window_past_alibi", 1, 4, 7, 4, 2, 3, 9, true, 3, 2.f},
    // Key-major products (flash_attention.cpp): hd a multiple of 16, in chunks of up to four
    // vectors; T not a multiple of the four-row group. hd 8 (stories260K) over many key vectors.
    {"key_major_hd16_gqa_past", 2, 7, 9, 4, 2, 16, 0, false},
    {"key_major_hd64_alibi", 1, 37, 37, 2, 1, 64, 0, true},
    {"key_major_hd80_window_softcap_kv_rows", 1, 21, 23, 2, 2, 80, 25, false, 6, 2.f},
    {"key_major_hd128", 1, 10, 10, 2, 1, 128, 0, false},
    {"hd8_long_gqa", 2, 37, 37, 4, 2, 8, 0, false},
    {"hd8_past_window_softcap_alibi", 1, 19, 24, 2, 1, 8, 26, true, 5, 1.5f},
};

// Encoders: every query sees all real keys of its row; the second row has 3 pads (its pad
// queries attend to the 2 real keys, as Hugging Face's additive mask has them).
const AttnCase kBidirectionalCases[] = {
    {"bidirectional", 2, 5, 5, 4, 2, 3, 0, false, 0, 0.f, true},
    {"bidirectional_right_padding", 2, 5, 5, 4, 2, 3, 0, false, 0, 0.f, true, kKeyLen},
    {"bidirectional_long_padded", 2, 37, 37, 2, 2, 8, 0, false, 0, 0.f, true, kKeyLenLong},
    {"bidirectional_key_major_hd32", 2, 37, 37, 2, 1, 32, 0, false, 0, 0.f, true, kKeyLenLong},
};

std::string case_name(const testing::TestParamInfo<AttnCase>& i) { return i.param.name; }
INSTANTIATE_TEST_SUITE_P(Kernels, AttentionTest, testing::ValuesIn(kAttnCases), case_name);
INSTANTIATE_TEST_SUITE_P(Kernels, CachedAttentionTest, testing::ValuesIn(kAttnCases), case_name);
INSTANTIATE_TEST_SUITE_P(Bidirectional, AttentionTest, testing::ValuesIn(kBidirectionalCases), case_name);

}  // namespace
}  // namespace peft
