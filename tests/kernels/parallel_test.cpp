// Kernels on sizes above their threading thresholds give the same bits with 1 thread and with all.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/threads.h"
#include "kernels/attention.h"
#include "kernels/cross_entropy.h"
#include "kernels/embedding.h"
#include "kernels/flash_attention.h"
#include "kernels/kernel_test_util.h"
#include "kernels/norms.h"
#include "kernels/rope.h"

namespace peft {
namespace {

using namespace ktest;

// Runs `op` (which fills its outputs from fixed inputs) with one thread and with at least two,
// and returns both output sets.  Rows are independent and reductions have a fixed order, so
// every kernel must be bitwise independent of the thread count (and race-free).
std::pair<std::vector<VecF>, std::vector<VecF>> serial_and_parallel(const std::function<std::vector<VecF>()>& op) {
  const int saved = num_threads();
  set_num_threads(1);
  auto serial = op();
  set_num_threads(std::max(saved, 2));
  auto parallel = op();
  set_num_threads(saved);
  return {serial, parallel};
}

struct ParCase {
  const char* name;
  std::function<std::vector<VecF>()> op;
};

std::vector<VecF> norms_op() {
  const int64_t N = 64, C = 300;  // N·C above the row threshold, C spans two column blocks
  const VecF x = uniform(size_t(N * C), 1), w = uniform(size_t(C), 2), b = uniform(size_t(C), 3),
             dy = uniform(size_t(N * C), 4);
  VecF out(x.size()), mean(static_cast<size_t>(N)), rstd(static_cast<size_t>(N)), dx(x.size(), 0.f), dw(size_t(C), 0.f),
      db(size_t(C), 0.f), out2(x.size()), rstd2(static_cast<size_t>(N)), dx2(x.size(), 0.f), dw2(size_t(C), 0.f);
  layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C, 1e-5f);
  layernorm_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), mean.data(), rstd.data(), N, C);
  rmsnorm_forward(out2.data(), rstd2.data(), x.data(), w.data(), N, C, 1e-6f);
  rmsnorm_backward(dx2.data(), dw2.data(), dy.data(), x.data(), w.data(), rstd2.data(), N, C);
  return {out, mean, rstd, dx, dw, db, out2, rstd2, dx2, dw2};
}

std::vector<VecF> rope_op() {
  const int64_t N = 64, H = 8, hd = 40;
  std::vector<int32_t> pos(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) pos[size_t(n)] = int32_t(n * 37 % 101);
  VecF x = uniform(size_t(N * H * hd), 5), g = x;
  rope_forward(x.data(), pos.data(), N, H, hd, RopeSpec::plain(32, 10000.f, RopeLayout::RotateHalf));
  rope_backward(g.data(), pos.data(), N, H, hd, RopeSpec::plain(40, 10000.f, RopeLayout::Interleaved));
  return {x, g};
}

std::vector<VecF> attention_op() {
  AttentionShape s;
  s.B = 2, s.T = 16, s.Tk = 20, s.H = 4, s.Hkv = 2, s.hd = 8, s.kv_rows = 24;
  s.scale = 0.35f;
  const VecF q = uniform(size_t(s.B * s.T * s.H * s.hd), 6), k = uniform(size_t(s.B * s.kv_rows * s.Hkv * s.hd), 7),
             v = uniform(k.size(), 8), dout = uniform(q.size(), 9);
  VecF out(q.size()), probs(size_t(s.B * s.H * s.T * s.Tk)), flash(q.size()), lse(size_t(s.B * s.H * s.T)),
      dq(q.size(), 0.f), dk(k.size(), 0.f), dv(v.size(), 0.f);
  attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), s);
  flash_attention_forward(flash.data(), lse.data(), q.data(), k.data(), v.data(), s);
  flash_attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), q.data(), k.data(), v.data(), lse.data(), s);
  return {out, probs, flash, lse, dq, dk, dv};
}

std::vector<VecF> cross_entropy_op() {
  const int64_t N = 8, V = 3000;
  const VecF logits = uniform(size_t(N * V), 10, -5.f, 5.f);
  const std::vector<int32_t> tg = {0, 2999, kIgnoreIndex, 17, 1500, 3, kIgnoreIndex, 42};
  VecF losses(static_cast<size_t>(N)), d(logits.size());
  cross_entropy_forward_backward(losses.data(), d.data(), logits.data(), tg.data(), N, V, 0.25f);
  return {losses, d};
}

std::vector<VecF> embedding_op() {
  const int64_t V = 10, C = 2000, N = 40;  // many repeated ids
  std::vector<int32_t> ids(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) ids[size_t(n)] = int32_t(n * 7 % V);
  const VecF table = uniform(size_t(V * C), 11), dy = uniform(size_t(N * C), 12);
  VecF out(size_t(N * C)), dt(table.size(), 0.f);
  const Tensor t(const_cast<float*>(table.data()), DType::F32, {V, C});
  embedding_forward(out.data(), ids.data(), t, N);
  embedding_backward(dt.data(), dy.data(), ids.data(), N, C);
  return {out, dt};
}

class ParallelTest : public testing::TestWithParam<ParCase> {};

TEST_P(ParallelTest, SameBitsForAnyThreadCount) {
  const auto [serial, parallel] = serial_and_parallel(GetParam().op);
  ASSERT_EQ(serial.size(), parallel.size());
  for (size_t i = 0; i < serial.size(); ++i) EXPECT_EQ(serial[i], parallel[i]) << "output " << i;
}

INSTANTIATE_TEST_SUITE_P(Kernels, ParallelTest,
                         testing::Values(ParCase{"norms", norms_op}, ParCase{"rope", rope_op},
                                         ParCase{"attention", attention_op}, ParCase{"cross_entropy", cross_entropy_op},
                                         ParCase{"embedding", embedding_op}),
                         [](const testing::TestParamInfo<ParCase>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace peft
