// Machine limits: a timed oneDNN GEMM, a timed memory sweep, and getrusage's peak RSS.
#include "bench/machine.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/tensor.h"
#include "kernels/matmul.h"

namespace peft::bench {

namespace {
double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
}  // namespace

double matmul_peak_gflops(DType weights) {
  const int64_t M = 1024, K = 768, N = 3072;
  std::vector<float> x(size_t(M * K)), y(size_t(M * N));
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 17) - 8) * 0.01f;
  OwnedTensor w(weights, {N, K});
  std::vector<float> row(static_cast<size_t>(K));
  for (int64_t r = 0; r < N; ++r) {
    for (int64_t c = 0; c < K; ++c) row[size_t(c)] = float(int((r + c) % 13) - 6) * 0.01f;
    convert_from_f32(static_cast<char*>(w.view().data) + size_t(r * K) * dtype_size(weights), weights, row.data(),
                     size_t(K));
  }
  linear_forward(y.data(), x.data(), w.view(), nullptr, M);  // builds and caches the primitive
  double best = 1e30;
  for (int rep = 0; rep < 8; ++rep) {
    const double t0 = now_s();
    linear_forward(y.data(), x.data(), w.view(), nullptr, M);
    best = std::min(best, now_s() - t0);
  }
  return 2.0 * double(M) * double(N) * double(K) / best / 1e9;
}

double read_bandwidth_gbs() {
  const size_t n = (size_t(256) << 20) / sizeof(float);
  std::vector<float> buf(n, 1.0f);  // first touch writes every page
  double best = 1e30, sink = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const double t0 = now_s();
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) schedule(static)
    for (int64_t i = 0; i < int64_t(n); i += 16) {
      float s = 0;
      for (int j = 0; j < 16; ++j) s += buf[size_t(i + j)];
      sum += s;
    }
    best = std::min(best, now_s() - t0);
    sink += sum;
  }
  return sink > 0 ? double(n * sizeof(float)) / best / 1e9 : 0.0;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) * 1024.0 / 1e6;  // ru_maxrss is in KiB on Linux
}

}  // namespace peft::bench
