// Quantized types: code books, quantize → dequantize round trips, and the quantized-weight
// products against a double-precision reference on the exactly decoded weights. (Bit-exact
// decoding against llama.cpp's gguf-py is tests/interop/clients/quantized_gguf.py.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

#include "io/gguf.h"
#include "kernels/embedding.h"
#include "kernels/matmul.h"
#include "kernels/quant_dot.h"
#include "quant/nf4.h"
#include "quant/quant.h"
#include "test_paths.h"

namespace peft {
namespace {

std::vector<float> normal(int64_t n, uint32_t seed, float std = 1.f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.f, std);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(gen);
  return v;
}

// A quantized (rows, cols) tensor owning its bytes.
struct QTensor {
  std::vector<uint8_t> bytes;
  Tensor view;
};

QTensor quantized(DType t, const std::vector<float>& x, int64_t rows, int64_t cols) {
  QTensor q;
  q.bytes.resize(quant_nbytes(t, rows * cols));
  quantize(q.bytes.data(), x.data(), t, rows * cols);
  q.view = Tensor(q.bytes.data(), t, {rows, cols});
  return q;
}

// Random blocks with ordinary scales for the types peft reads but does not write: every f16
// scale field set to a small normal value.
QTensor random_blocks(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  QTensor q;
  q.bytes.resize(quant_nbytes(t, rows * cols));
  std::mt19937 gen(seed);
  for (uint8_t& b : q.bytes) b = uint8_t(gen());
  const int64_t block = quant_block(t), bytes = int64_t(quant_nbytes(t, block)), blocks = rows * cols / block;
  for (int64_t b = 0; b < blocks; ++b)
    while (first_bad_block(q.bytes.data() + b * bytes, t, block) == 0) q.bytes[size_t(b * bytes + gen() % bytes)] = 0;
  std::vector<float> check(static_cast<size_t>(rows * cols));
  dequantize(check.data(), q.bytes.data(), t, rows * cols);
  // Bound the magnitudes (random scale bytes can be 6e4): rescale by zeroing blocks too big.
  for (int64_t b = 0; b < blocks; ++b) {
    float m = 0;
    for (int64_t j = 0; j < block; ++j) m = std::max(m, std::fabs(check[size_t(b * block + j)]));
    if (m > 1e3f || !std::isfinite(m)) std::memset(q.bytes.data() + b * bytes, 0, size_t(bytes));
  }
  q.view = Tensor(q.bytes.data(), t, {rows, cols});
  return q;
}

TEST(Nf4, CodeBookIsQLoRAs) {
  // QLoRA (Dettmers et al. 2023), appendix E / bitsandbytes' NF4 table.
  const double published[16] = {-1.0,
                                -0.6961928009986877,
                                -0.5250730514526367,
                                -0.39491748809814453,
                                -0.28444138169288635,
                                -0.18477343022823334,
                                -0.09105003625154495,
                                0.0,
                                0.07958029955625534,
                                0.16093020141124725,
                                0.24611230194568634,
                                0.33791524171829224,
                                0.44070982933044434,
                                0.5626170039176941,
                                0.7229568362236023,
                                1.0};
  for (int i = 0; i < 16; ++i) EXPECT_EQ(nf4_values()[i], float(published[i])) << i;
}

TEST(Nf4, DynamicMapMatchesTheTorchTranscription) {
  std::ifstream in(test::fixture_dir("local:nf4") + "/dynamic_map.txt");
  ASSERT_TRUE(in.good());
  std::string line;
  int i = 0;
  while (std::getline(in, line)) {
    uint32_t bits = std::stoul(line.substr(0, 8), nullptr, 16);
    float want;
    std::memcpy(&want, &bits, 4);
    ASSERT_LT(i, 256);
    // torch.linspace builds its points in SIMD chunks (base + i·step per lane), so the last bit
    // of a few entries depends on the vector width torch dispatches to: two f32 ulps are allowed.
    EXPECT_NEAR(nf4_dynamic_map()[i], want, std::fabs(want) * 2.5e-7) << "entry " << i;
    ++i;
  }
  EXPECT_EQ(i, 256);
}

// Each value's error is at most half the widest NF4 gap times its block's absmax, plus what the
// 8-bit absmax code costs; the whole tensor's RMS error is ~0.1 of its spread (4 bits).
TEST(Nf4, RoundTripErrorIsBounded) {
  const int64_t n = 64 * 600;  // 600 blocks: three double-quantization groups, the last partial
  std::vector<float> x = normal(n, 3, 0.02f);
  x[100] = 0.5f;  // an outlier block
  std::vector<float> zeros(64, 0.f);
  std::copy(zeros.begin(), zeros.end(), x.begin() + 64 * 7);  // an all-zero block
  std::vector<uint8_t> q(nf4_nbytes(n));
  nf4_quantize(q.data(), x.data(), n);
  std::vector<float> y(static_cast<size_t>(n));
  nf4_dequantize(y.data(), q.data(), n, 0, n);
  double se = 0, sx = 0;
  for (int64_t b = 0; b < n / 64; ++b) {
    float amax = 0;
    for (int j = 0; j < 64; ++j) amax = std::max(amax, std::fabs(x[size_t(b * 64 + j)]));
    for (int j = 0; j < 64; ++j) {
      const double e = std::fabs(double(y[size_t(b * 64 + j)]) - x[size_t(b * 64 + j)]);
      EXPECT_LE(e, amax * (0.5 * 0.3038 + 0.02) + 1e-3) << "block " << b;
      se += e * e;
      sx += double(x[size_t(b * 64 + j)]) * x[size_t(b * 64 + j)];
    }
  }
  for (int j = 0; j < 64; ++j) EXPECT_LE(std::fabs(y[size_t(64 * 7 + j)]), 1e-3f);
  EXPECT_LT(std::sqrt(se / sx), 0.12);
}

struct RoundTripCase {
  DType type;
  double max_rel_rms;  // RMS error / RMS of the data, N(0, 1) rows
};

class QuantRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(QuantRoundTrip, ErrorIsThatOfItsBits) {
  const auto [type, bound] = GetParam();
  const int64_t rows = 8, cols = 512;
  const std::vector<float> x = normal(rows * cols, 11);
  QTensor q = quantized(type, x, rows, cols);
  std::vector<float> y(static_cast<size_t>(rows * cols));
  dequantize(y.data(), q.bytes.data(), type, rows * cols);
  double se = 0, sx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    se += (double(y[i]) - x[i]) * (double(y[i]) - x[i]);
    sx += double(x[i]) * x[i];
  }
  EXPECT_LT(std::sqrt(se / sx), bound) << dtype_name(type);
  // Rows decode independently (what the panels and embedding lookups read).
  std::vector<float> row(static_cast<size_t>(cols));
  dequantize_rows(row.data(), q.view, 5, 6);
  EXPECT_EQ(0, std::memcmp(row.data(), y.data() + 5 * cols, size_t(cols) * 4));
}

INSTANTIATE_TEST_SUITE_P(Types, QuantRoundTrip,
                         ::testing::Values(RoundTripCase{DType::Q8_0, 0.006}, RoundTripCase{DType::Q4_0, 0.12},
                                           RoundTripCase{DType::Q4_K, 0.10}, RoundTripCase{DType::NF4, 0.11}),
                         [](const auto& info) { return std::string(dtype_name(info.param.type)); });

// ggml's reference Q8_0/Q4_0: the value of largest magnitude maps exactly to ±127 / −8.
TEST(Quantize, ReferenceQuantizersKeepTheExtremeExact) {
  std::vector<float> x = normal(32, 5);
  x[9] = -3.0f;
  for (DType t : {DType::Q8_0, DType::Q4_0}) {
    QTensor q = quantized(t, x, 1, 32);
    std::vector<float> y(32);
    dequantize(y.data(), q.bytes.data(), t, 32);
    EXPECT_NEAR(y[9], -3.0f, 3e-3f) << dtype_name(t);  // the f16 scale's rounding only
  }
}

// The product for every type: few rows within f32 rounding of the exact decoded weights (fused
// decode, f32 activations) or, for the types with an integer kernel, within the 8-bit
// activations' bound; many rows (bf16 panels) within bf16's; the input gradient through the panels.
class QuantProduct : public ::testing::TestWithParam<DType> {};

TEST_P(QuantProduct, MatchesTheDecodedWeights) {
  const DType t = GetParam();
  const int64_t N = 40, K = 512;
  QTensor W = quant_can_quantize(t) ? quantized(t, normal(N * K, 21, 0.05f), N, K) : random_blocks(t, N, K, 21);
  std::vector<float> w(static_cast<size_t>(N * K));
  dequantize(w.data(), W.bytes.data(), t, N * K);
  const std::vector<float> b = normal(N, 4);
  for (int64_t M : {1, 3, 4, 37}) {
    const std::vector<float> x = normal(M * K, uint32_t(M));
    std::vector<float> y(static_cast<size_t>(M * N));
    linear_forward(y.data(), x.data(), W.view, b.data(), M);
    const bool exact = M <= 4, int8 = exact && has_int8_dot(t);
    bool inexact = false;
    for (int64_t m = 0; m < M; ++m) {
      // The 8-bit activations' bound (quant_dot.h): each x moves by at most max|x_block| / 254.
      std::vector<double> half_step(size_t(K / 32));
      for (int64_t blk = 0; blk < K / 32; ++blk) {
        double amax = 0;
        for (int64_t j = 0; j < 32; ++j) amax = std::max(amax, double(std::fabs(x[size_t(m * K + 32 * blk + j)])));
        half_step[size_t(blk)] = amax / 254.0;
      }
      for (int64_t n = 0; n < N; ++n) {
        double ref = b[size_t(n)], mag = std::fabs(b[size_t(n)]), bound = 0;
        for (int64_t k = 0; k < K; ++k) {
          const double xv = exact ? x[size_t(m * K + k)] : bf16_to_f32(f32_to_bf16(x[size_t(m * K + k)]));
          const double wv = exact ? w[size_t(n * K + k)] : bf16_to_f32(f32_to_bf16(w[size_t(n * K + k)]));
          ref += xv * wv;
          mag += std::fabs(xv * wv);
          bound += std::fabs(wv) * half_step[size_t(k / 32)];
        }
        ASSERT_NEAR(y[size_t(m * N + n)], ref, (int8 ? bound * 1.001 : 0.0) + 1e-5 * mag + 1e-6)
            << dtype_name(t) << " M=" << M << " n=" << n;
        inexact |= std::fabs(y[size_t(m * N + n)] - ref) > 1e-6 * mag;
      }
    }
    if (int8) EXPECT_TRUE(inexact) << dtype_name(t) << ": the 8-bit activations should show (is the kernel used?)";
    // dx += dy · deq(W), accumulated onto what dx held.
    const std::vector<float> dy = normal(M * N, 99);
    std::vector<float> dx(size_t(M * K), 1.0f);
    linear_backward_input(dx.data(), dy.data(), W.view, M);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; k += 7) {
        double ref = 1.0, mag = 1.0;
        for (int64_t n = 0; n < N; ++n) {
          const double d = bf16_to_f32(f32_to_bf16(dy[size_t(m * N + n)]));
          const double wv = bf16_to_f32(f32_to_bf16(w[size_t(n * K + k)]));
          ref += d * wv;
          mag += std::fabs(d * wv);
        }
        ASSERT_NEAR(dx[size_t(m * K + k)], ref, 1e-5 * mag) << dtype_name(t) << " M=" << M << " k=" << k;
      }
  }
  // An embedding lookup reads the row's exact decoding.
  const int32_t ids[3] = {7, 0, 39};
  std::vector<float> e(size_t(3 * K));
  embedding_forward(e.data(), ids, W.view, 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(0, std::memcmp(e.data() + i * K, w.data() + ids[i] * K, size_t(K) * 4));
}

INSTANTIATE_TEST_SUITE_P(Types, QuantProduct,
                         ::testing::Values(DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K,
                                           DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL,
                                           DType::IQ4_XS, DType::NF4),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(QuantTypes, NamesAndGgmlNumbersRoundTrip) {
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                  DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS}) {
    EXPECT_EQ(quant_type_from_name(dtype_name(t)), t);
    ASSERT_TRUE(ggml_from_dtype(t).has_value());
    EXPECT_EQ(dtype_from_ggml(*ggml_from_dtype(t)), t);
    // The GGUF reader's type table (io/gguf_types.cpp) and the quantized types' agree on layouts.
    const auto [block, bytes] = ggml_block_layout(*ggml_from_dtype(t));
    EXPECT_EQ(block, quant_block(t)) << dtype_name(t);
    EXPECT_EQ(size_t(bytes), quant_nbytes(t, block)) << dtype_name(t);
  }
  EXPECT_EQ(quant_type_from_name("nf4"), DType::NF4);
  EXPECT_FALSE(ggml_from_dtype(DType::NF4).has_value());
  EXPECT_FALSE(dtype_from_ggml(17).has_value());  // IQ2_XS: recognised by name, not read
  EXPECT_FALSE(dtype_from_name("Q4_K").has_value()) << "safetensors headers never name a quantized type";
}

}  // namespace
}  // namespace peft
