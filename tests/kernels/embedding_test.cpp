// Tests of the embedding gather (fp32 and bf16 tables) and its scatter-add backward.
#include "kernels/embedding.h"

#include <gtest/gtest.h>

#include <string>

#include "kernels/kernel_test_util.h"

namespace peft {
namespace {

using namespace ktest;

struct EmbCase {
  const char* name;
  int64_t V, C;
  std::vector<int32_t> ids;  // repeats on purpose
  DType dtype;
};

VecD embedding_ref(const EmbCase& c, const VecD& table) {
  VecD out(c.ids.size() * size_t(c.C));
  for (size_t n = 0; n < c.ids.size(); ++n)
    for (int64_t j = 0; j < c.C; ++j) out[n * size_t(c.C) + size_t(j)] = table[size_t(c.ids[n] * c.C + j)];
  return out;
}

class EmbeddingTest : public testing::TestWithParam<EmbCase> {};

TEST_P(EmbeddingTest, ForwardGathersRows) {
  const auto& c = GetParam();
  const int64_t N = int64_t(c.ids.size());
  const VecF table = uniform(size_t(c.V * c.C), 1);
  const std::vector<uint16_t> table16 = to_bf16(table);
  const Tensor t = c.dtype == DType::BF16 ? Tensor(const_cast<uint16_t*>(table16.data()), DType::BF16, {c.V, c.C})
                                          : Tensor(const_cast<float*>(table.data()), DType::F32, {c.V, c.C});
  VecF out(size_t(N * c.C), 7.f);
  embedding_forward(out.data(), c.ids.data(), t, N);
  const VecD ref = embedding_ref(c, to_d(c.dtype == DType::BF16 ? bf16_round(table) : table));
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_EQ(double(out[i]), ref[i]) << i;  // exact copy
}

TEST_P(EmbeddingTest, BackwardScatterAddsRepeatedIds) {
  const auto& c = GetParam();
  const int64_t N = int64_t(c.ids.size());
  const VecF table = uniform(size_t(c.V * c.C), 2), R = uniform(size_t(N * c.C), 3),
             g0 = uniform(table.size(), 4, -.5f, .5f);
  VecF dtable = g0;
  embedding_backward(dtable.data(), R.data(), c.ids.data(), N, c.C);
  const VecD g = fd_grad([&](const VecD& t) { return embedding_ref(c, t); }, to_d(table), to_d(R));
  EXPECT_LT(rel_err(added(dtable, g0), g), 1e-6);
}

const EmbCase kEmbCases[] = {
    {"f32", 11, 6, {3, 0, 10, 3, 3, 7, 0, 1, 10}, DType::F32},
    {"bf16", 11, 6, {3, 0, 10, 3, 3, 7, 0, 1, 10}, DType::BF16},
    {"f32_wide", 5, 600, {4, 4, 1, 0, 2, 4, 1, 3, 3, 0, 4, 2}, DType::F32},  // several column blocks
    {"single", 1, 3, {0}, DType::F32},
};

INSTANTIATE_TEST_SUITE_P(Kernels, EmbeddingTest, testing::ValuesIn(kEmbCases),
                         [](const testing::TestParamInfo<EmbCase>& i) { return std::string(i.param.name); });

// A row-strided view of a wider table (e.g. a slice) is read through its stride.
TEST(EmbeddingStrided, ForwardHonoursRowStride) {
  const int64_t V = 4, C = 3, ld = 5;
  const VecF wide = uniform(size_t(V * ld), 5);
  Tensor t(const_cast<float*>(wide.data()), DType::F32, {V, ld});
  t.shape[1] = C;
  const int32_t ids[] = {2, 0, 3};
  VecF out(9);
  embedding_forward(out.data(), ids, t, 3);
  for (int n = 0; n < 3; ++n)
    for (int j = 0; j < C; ++j) EXPECT_EQ(out[size_t(n * C + j)], wide[size_t(ids[n] * ld + j)]);
}

}  // namespace
}  // namespace peft
