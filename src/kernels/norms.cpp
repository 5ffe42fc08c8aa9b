// LayerNorm and RMSNorm forward/backward over the last dimension, parallel over rows.
#include "kernels/norms.h"

#include <algorithm>
#include <cmath>

namespace peft {
namespace {

// Weight/bias gradients are sums over rows; each thread owns a block of columns and walks
// every row, so there are no races and the result does not depend on the thread count.
template <class F>
void column_reduce(int64_t N, int64_t C, F&& add_row_to_columns) {
  constexpr int64_t kBlock = 256;
  const int64_t nblocks = (C + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (N * C > 32768)
  for (int64_t blk = 0; blk < nblocks; ++blk) {
    const int64_t c0 = blk * kBlock, c1 = std::min(C, c0 + kBlock);
    for (int64_t n = 0; n < N; ++n) add_row_to_columns(n, c0, c1);
  }
}

}  // namespace

void layernorm_forward(float* out, float* mean, float* rstd, const float* x, const float* w, const float* b, int64_t N,
                       int64_t C, float eps) {
#pragma omp parallel for schedule(static) if (N * C > 16384)
  for (int64_t n = 0; n < N; ++n) {
    const float* xr = x + n * C;
    // Statistics in double: two cheap passes, and no cancellation in the variance.
    double s = 0.0;
    for (int64_t c = 0; c < C; ++c) s += xr[c];
    const double mu = s / double(C);
    double v = 0.0;
    for (int64_t c = 0; c < C; ++c) {
      const double d = xr[c] - mu;
      v += d * d;
    }
    const float m = float(mu);
    const float r = float(1.0 / std::sqrt(v / double(C) + double(eps)));
    float* o = out + n * C;
    for (int64_t c = 0; c < C; ++c) {
      const float xhat = (xr[c] - m) * r;
      o[c] = xhat * w[c] + (b ? b[c] : 0.f);
    }
    mean[n] = m;
    rstd[n] = r;
  }
}

// x̂ = (x − μ)·r, y = x̂·w + b, g = dy·w.  Differentiating μ and r = (var + eps)^-½ through x:
//   dx = r · (g − mean(g) − x̂ · mean(g · x̂)),   dw = Σ_n dy · x̂,   db = Σ_n dy.
void layernorm_backward(float* dx, float* dw, float* db, const float* dout, const float* x, const float* w,
                        const float* mean, const float* rstd, int64_t N, int64_t C) {
#pragma omp parallel for schedule(static) if (N * C > 16384)
  for (int64_t n = 0; n < N; ++n) {
    const float* xr = x + n * C;
    const float* dy = dout + n * C;
    const float m = mean[n], r = rstd[n];
    double sg = 0.0, sgx = 0.0;
    for (int64_t c = 0; c < C; ++c) {
      const float g = dy[c] * w[c];
      sg += g;
      sgx += double(g) * double((xr[c] - m) * r);
    }
    const float mg = float(sg / double(C)), mgx = float(sgx / double(C));
    float* d = dx + n * C;
    for (int64_t c = 0; c < C; ++c) {
      const float xhat = (xr[c] - m) * r;
      d[c] += r * (dy[c] * w[c] - mg - xhat * mgx);
    }
  }
  if (!dw && !db) return;
  column_reduce(N, C, [&](int64_t n, int64_t c0, int64_t c1) {
    const float* xr = x + n * C;
    const float* dy = dout + n * C;
    const float m = mean[n], r = rstd[n];
    for (int64_t c = c0; c < c1; ++c) {
      if (dw) dw[c] += dy[c] * ((xr[c] - m) * r);
      if (db) db[c] += dy[c];
    }
  });
}

void rmsnorm_forward(float* out, float* rstd, const float* x, const float* w, int64_t N, int64_t C, float eps) {
#pragma omp parallel for schedule(static) if (N * C > 16384)
  for (int64_t n = 0; n < N; ++n) {
    const float* xr = x + n * C;
    double ss = 0.0;
    for (int64_t c = 0; c < C; ++c) ss += double(xr[c]) * double(xr[c]);
    const float r = float(1.0 / std::sqrt(ss / double(C) + double(eps)));
    float* o = out + n * C;
    // Hugging Face order: (x · rstd) · w.
    for (int64_t c = 0; c < C; ++c) o[c] = (xr[c] * r) * w[c];
    rstd[n] = r;
  }
}

// y = x·r·w with r = (mean(x²) + eps)^-½, so ∂r/∂x_c = −r³·x_c / C.  With g = dy·w:
//   dx = r · (g − x · r² · mean(g · x)),   dw = Σ_n dy · x · r.
void rmsnorm_backward(float* dx, float* dw, const float* dout, const float* x, const float* w, const float* rstd,
                      int64_t N, int64_t C) {
#pragma omp parallel for schedule(static) if (N * C > 16384)
  for (int64_t n = 0; n < N; ++n) {
    const float* xr = x + n * C;
    const float* dy = dout + n * C;
    const float r = rstd[n];
    double sgx = 0.0;
    for (int64_t c = 0; c < C; ++c) sgx += double(dy[c] * w[c]) * double(xr[c]);
    const float k = float(sgx / double(C)) * r * r;
    float* d = dx + n * C;
    for (int64_t c = 0; c < C; ++c) d[c] += r * (dy[c] * w[c] - xr[c] * k);
  }
  if (!dw) return;
  column_reduce(N, C, [&](int64_t n, int64_t c0, int64_t c1) {
    const float* xr = x + n * C;
    const float* dy = dout + n * C;
    const float r = rstd[n];
    for (int64_t c = c0; c < c1; ++c) dw[c] += dy[c] * (xr[c] * r);
  });
}

}  // namespace peft
