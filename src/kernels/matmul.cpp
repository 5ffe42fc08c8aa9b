// Matrix products on oneDNN matmul primitives, cached per shape, layout and dtype.
#include "kernels/matmul.h"

#include "core/threads.h"
#include "kernels/gemv.h"
#include "kernels/quant_matmul.h"

#include <compare>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <vector>

namespace peft {
namespace {

using mdt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

dnnl::engine& cpu_engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

// One stream for everything: a CPU stream runs a primitive synchronously on the calling
// thread (its work is spread over the OpenMP pool inside oneDNN).
dnnl::stream& cpu_stream() {
  static dnnl::stream s(cpu_engine());
  return s;
}

// C (M, N) = op(A) (M, K) · op(B) (K, N) [+ C] [+ bias]; every operand is row-major with a
// leading dimension, and a transpose is only a different pair of strides (no copy).
struct GemmKey {
  int64_t M, N, K;
  int64_t lda, ldb, ldc;
  bool trans_a, trans_b, accumulate, bias;
  mdt ab_type;  // type of A and B (oneDNN 2.6 CPU matmul wants them equal); C is always f32
  // oneDNN fixes a primitive's thread count when it is created: after adapt_threads changes
  // the pool's size, the old primitive would still start the old number of threads.
  int threads = 0;
  auto operator<=>(const GemmKey&) const = default;
};

struct GemmPrimitive {
  dnnl::matmul prim;
  dnnl::memory::desc a_md, b_md, c_md, bias_md;
};

GemmPrimitive make_primitive(const GemmKey& k) {
  GemmPrimitive p;
  p.a_md = dnnl::memory::desc({k.M, k.K}, k.ab_type, k.trans_a ? dims{1, k.lda} : dims{k.lda, 1});
  p.b_md = dnnl::memory::desc({k.K, k.N}, k.ab_type, k.trans_b ? dims{1, k.ldb} : dims{k.ldb, 1});
  p.c_md = dnnl::memory::desc({k.M, k.N}, mdt::f32, dims{k.ldc, 1});
  if (k.bias) p.bias_md = dnnl::memory::desc({1, k.N}, mdt::f32, dims{k.N, 1});
  dnnl::primitive_attr attr;
  if (k.accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  try {
    auto desc =
        k.bias ? dnnl::matmul::desc(p.a_md, p.b_md, p.bias_md, p.c_md) : dnnl::matmul::desc(p.a_md, p.b_md, p.c_md);
    dnnl::matmul::primitive_desc pd(desc, attr, cpu_engine());
    p.prim = dnnl::matmul(pd);
  } catch (const dnnl::error& e) {
    PEFT_CHECK(false, "oneDNN matmul M={} N={} K={} trans=({}, {}): {}", k.M, k.N, k.K, k.trans_a, k.trans_b, e.what());
  }
  return p;
}

// Least-recently-used cache of primitives. Training sees a new padded length T at most steps
// and each projection shape needs a primitive per T (forward, input and weight gradients),
// so an unbounded cache grew by ~70 KB per primitive for the whole run. Entries are shared
// pointers: one evicted while another thread runs it stays alive until that run ends.
constexpr size_t kMaxCachedPrimitives = 96;

std::shared_ptr<const GemmPrimitive> cached_primitive(GemmKey key) {
  key.threads = num_threads();
  static std::mutex mu;
  using Entry = std::pair<GemmKey, std::shared_ptr<const GemmPrimitive>>;
  static std::list<Entry> lru;  // most recent first
  static std::map<GemmKey, std::list<Entry>::iterator> index;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = index.find(key); it != index.end()) {
    lru.splice(lru.begin(), lru, it->second);
    return it->second->second;
  }
  lru.emplace_front(key, std::make_shared<const GemmPrimitive>(make_primitive(key)));
  index[key] = lru.begin();
  if (lru.size() > kMaxCachedPrimitives) {
    index.erase(lru.back().first);
    lru.pop_back();
  }
  return lru.front().second;
}

void run_gemm(const GemmKey& key, float* C, const void* A, const void* B, const float* bias) {
  if (key.M == 0 || key.N == 0) return;
  if (key.K == 0) {  // empty sum: oneDNN is not asked about degenerate products
    for (int64_t m = 0; m < key.M; ++m)
      for (int64_t n = 0; n < key.N; ++n) {
        float& c = C[m * key.ldc + n];
        c = (key.accumulate ? c : 0.f) + (bias ? bias[n] : 0.f);
      }
    return;
  }
  const std::shared_ptr<const GemmPrimitive> held = cached_primitive(key);
  const GemmPrimitive& p = *held;
  dnnl::engine& eng = cpu_engine();
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dnnl::memory(p.a_md, eng, const_cast<void*>(A))},
                                             {DNNL_ARG_WEIGHTS, dnnl::memory(p.b_md, eng, const_cast<void*>(B))},
                                             {DNNL_ARG_DST, dnnl::memory(p.c_md, eng, C)}};
  if (bias) args.emplace(DNNL_ARG_BIAS, dnnl::memory(p.bias_md, eng, const_cast<float*>(bias)));
  dnnl::stream& s = cpu_stream();
  p.prim.execute(s, args);
  s.wait();
}

// x (n) rounded to bf16 in a per-thread buffer that only grows (no allocation once warm).
const uint16_t* to_bf16_scratch(const float* x, int64_t n) {
  thread_local std::vector<uint16_t> buf;
  if (int64_t(buf.size()) < n) buf.resize(size_t(n));
  uint16_t* d = buf.data();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) d[i] = f32_to_bf16(x[i]);
  return d;
}

// Leading dimension of a 2-D weight view whose rows are contiguous (slices allowed).
int64_t weight_ld(const Tensor& W) {
  PEFT_CHECK(W.ndim == 2, "weight must be 2-D, got {}", W.shape_str());
  PEFT_CHECK(W.dtype == DType::F32 || W.dtype == DType::BF16, "weight dtype {} not supported", dtype_name(W.dtype));
  PEFT_CHECK(W.stride[1] == 1 || W.shape[1] == 1, "weight rows must be contiguous");
  PEFT_CHECK(W.shape[0] <= 1 || W.stride[0] >= W.shape[1], "weight rows overlap");
  return W.shape[0] <= 1 ? W.shape[1] : W.stride[0];
}

}  // namespace

void linear_forward(float* y, const float* x, const Tensor& W, const float* b, int64_t M) {
  if (dtype_is_quantized(W.dtype)) return quant_linear_forward(y, x, W, b, M);
  const int64_t N = W.dim(0), K = W.dim(1), ldw = weight_ld(W);
  // y = x · Wᵀ: W (N, K) seen as (K, N) through transposed strides.
  GemmKey key{M, N, K, K, ldw, N, false, true, false, b != nullptr, mdt::f32};
  const void* a = x;
  if (M <= kGemvMaxRows) {  // decoding: bandwidth-bound
    if (W.dtype == DType::BF16) return gemv_bf16(y, x, static_cast<const uint16_t*>(W.data), ldw, b, M, N, K);
    return gemv_f32(y, x, static_cast<const float*>(W.data), ldw, b, M, N, K);
  }
  if (W.dtype == DType::BF16) {
    key.ab_type = mdt::bf16;
    if (M > 0 && K > 0) a = to_bf16_scratch(x, M * K);
  }
  run_gemm(key, y, a, W.data, b);
}

void linear_backward_input(float* dx, const float* dy, const Tensor& W, int64_t M) {
  if (dtype_is_quantized(W.dtype)) return quant_linear_backward_input(dx, dy, W, M);
  const int64_t N = W.dim(0), K = W.dim(1), ldw = weight_ld(W);
  // dx (M, K) += dy (M, N) · W (N, K): W is used untransposed.
  GemmKey key{M, K, N, N, ldw, K, false, false, true, false, mdt::f32};
  const void* a = dy;
  if (W.dtype == DType::BF16) {
    key.ab_type = mdt::bf16;
    if (M > 0 && N > 0) a = to_bf16_scratch(dy, M * N);
  }
  run_gemm(key, dx, a, W.data, nullptr);
}

void linear_backward_weight(float* dW, float* db, const float* dy, const float* x, int64_t M, int64_t N, int64_t K) {
  // dW (N, K) += dyᵀ (N, M) · x (M, K): dy (M, N) read transposed.
  gemm_f32(dW, dy, x, GemmShape{N, K, M, true, false, true});
  if (db) {
#pragma omp parallel for schedule(static) if (M * N > 65536)
    for (int64_t n = 0; n < N; ++n) {
      float s = 0.f;
      for (int64_t m = 0; m < M; ++m) s += dy[m * N + n];
      db[n] += s;
    }
  }
}

void gemm_f32(float* C, const float* A, const float* B, const GemmShape& g) {
  PEFT_CHECK(g.M >= 0 && g.N >= 0 && g.K >= 0, "bad gemm shape {}x{}x{}", g.M, g.N, g.K);
  const int64_t lda = g.trans_a ? g.M : g.K;  // A stored (K, M) or (M, K)
  const int64_t ldb = g.trans_b ? g.K : g.N;  // B stored (N, K) or (K, N)
  GemmKey key{g.M, g.N, g.K, lda, ldb, g.N, g.trans_a, g.trans_b, g.accumulate, false, mdt::f32};
  run_gemm(key, C, A, B, nullptr);
}

void gemm_bf16(float* C, int64_t ldc, const uint16_t* A, int64_t lda, const uint16_t* B, int64_t ldb,
               const GemmShape& g) {
  PEFT_CHECK(g.M >= 0 && g.N >= 0 && g.K >= 0, "bad gemm shape {}x{}x{}", g.M, g.N, g.K);
  GemmKey key{g.M, g.N, g.K, lda, ldb, ldc, g.trans_a, g.trans_b, g.accumulate, false, mdt::bf16};
  run_gemm(key, C, A, B, nullptr);
}

}  // namespace peft
