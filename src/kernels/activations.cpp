// Pointwise activations and gated MLPs, in fp32 with PyTorch's formulas.
#include "kernels/activations.h"

#include <algorithm>
#include <cmath>

#include "kernels/vec_math.h"

namespace peft {
namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;  // √(2/π)
constexpr float kGeluCoef = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;  // 1/√(2π)
constexpr int64_t kParallelMin = 1 << 15;           // below this, threads cost more than they save

using vec::vf;

// One 16-lane vector of act(x). GELU tanh, SiLU and tanh go through vec::exp (no libm call
// per element); the exact GELU keeps std::erf lane by lane.
template <Activation A>
inline vf act(vf x) {
  if constexpr (A == Activation::GeluTanh) {
    return 0.5f * x * (1.f + vec::tanh(kSqrt2OverPi * (x + kGeluCoef * x * x * x)));
  } else if constexpr (A == Activation::GeluExact) {
    vf y;
    for (int i = 0; i < vec::kW; ++i) y[i] = 0.5f * x[i] * (1.f + std::erf(x[i] * kInvSqrt2));
    return y;
  } else if constexpr (A == Activation::Silu) {
    return x * vec::sigmoid(x);
  } else if constexpr (A == Activation::Relu) {
    return x > 0.f ? x : vf{};
  } else if constexpr (A == Activation::Tanh) {
    return vec::tanh(x);
  } else {
    return x;
  }
}

// Derivatives:
//   gelu tanh: y = ½x(1 + tanh u), u = c(x + a x³) ⇒ y' = ½(1 + tanh u) + ½x(1 − tanh²u)·c(1 + 3a x²)
//   gelu exact: y = x Φ(x) ⇒ y' = Φ(x) + x φ(x), φ(x) = e^(−x²/2)/√(2π)
//   silu: y = x σ(x) ⇒ y' = σ(x)(1 + x(1 − σ(x)))
//   relu: y' = [x > 0] (0 at x = 0, as PyTorch);  tanh: y' = 1 − tanh²x
template <Activation A>
inline vf act_grad(vf x) {
  if constexpr (A == Activation::GeluTanh) {
    const vf th = vec::tanh(kSqrt2OverPi * (x + kGeluCoef * x * x * x));
    return 0.5f * (1.f + th) + 0.5f * x * (1.f - th * th) * kSqrt2OverPi * (1.f + 3.f * kGeluCoef * x * x);
  } else if constexpr (A == Activation::GeluExact) {
    vf y;
    for (int i = 0; i < vec::kW; ++i)
      y[i] = 0.5f * (1.f + std::erf(x[i] * kInvSqrt2)) + x[i] * kInvSqrt2Pi * std::exp(-0.5f * x[i] * x[i]);
    return y;
  } else if constexpr (A == Activation::Silu) {
    const vf sg = vec::sigmoid(x);
    return sg * (1.f + x * (1.f - sg));
  } else if constexpr (A == Activation::Relu) {
    return x > 0.f ? vec::splat(1.f) : vf{};
  } else if constexpr (A == Activation::Tanh) {
    const vf th = vec::tanh(x);
    return 1.f - th * th;
  } else {
    return vec::splat(1.f);
  }
}

// Runs body(i, count) over the vectors of [0, n) (the last one partial), in parallel when large.
template <class F>
void over_vectors(int64_t n, F&& body) {
  const int64_t nv = (n + vec::kW - 1) / vec::kW;
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t c = 0; c < nv; ++c) body(c * vec::kW, std::min(vec::kW, n - c * vec::kW));
}

template <Activation A>
void fwd(float* out, const float* x, int64_t n) {
  over_vectors(n, [&](int64_t i, int64_t m) { vec::store_n(out + i, act<A>(vec::load_n(x + i, m)), m); });
}

template <Activation A>
void bwd(float* dx, const float* dout, const float* x, int64_t n) {
  over_vectors(n, [&](int64_t i, int64_t m) {
    const vf g = vec::load_n(dx + i, m) + act_grad<A>(vec::load_n(x + i, m)) * vec::load_n(dout + i, m);
    vec::store_n(dx + i, g, m);
  });
}

template <Activation A>
void gated_fwd(float* out, const float* gate, const float* up, int64_t n) {
  over_vectors(n, [&](int64_t i, int64_t m) {
    vec::store_n(out + i, act<A>(vec::load_n(gate + i, m)) * vec::load_n(up + i, m), m);
  });
}

// out = act(g)·u ⇒ ∂out/∂g = act'(g)·u, ∂out/∂u = act(g).
template <Activation A>
void gated_bwd(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n) {
  over_vectors(n, [&](int64_t i, int64_t m) {
    const vf g = vec::load_n(gate + i, m), d = vec::load_n(dout + i, m);
    vec::store_n(dgate + i, vec::load_n(dgate + i, m) + act_grad<A>(g) * vec::load_n(up + i, m) * d, m);
    vec::store_n(dup + i, vec::load_n(dup + i, m) + act<A>(g) * d, m);
  });
}

// Calls f.template operator()<A>() with the runtime activation as a compile-time constant.
template <class F>
void dispatch(Activation a, F&& f) {
  switch (a) {
    case Activation::GeluTanh:
      f.template operator()<Activation::GeluTanh>();
      return;
    case Activation::GeluExact:
      f.template operator()<Activation::GeluExact>();
      return;
    case Activation::Silu:
      f.template operator()<Activation::Silu>();
      return;
    case Activation::Relu:
      f.template operator()<Activation::Relu>();
      return;
    case Activation::Identity:
      f.template operator()<Activation::Identity>();
      return;
    case Activation::Tanh:
      f.template operator()<Activation::Tanh>();
      return;
  }
}

}  // namespace

std::optional<Activation> activation_from_hf_name(std::string_view name) {
  // gelu_fast is HF's other tanh approximation (same formula, rearranged); close enough to share.
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return Activation::GeluTanh;
  if (name == "gelu") return Activation::GeluExact;
  if (name == "silu" || name == "swish") return Activation::Silu;
  if (name == "relu") return Activation::Relu;
  if (name == "identity" || name == "linear") return Activation::Identity;
  return std::nullopt;
}

void activation_forward(Activation a, float* out, const float* x, int64_t n) {
  dispatch(a, [&]<Activation A>() { fwd<A>(out, x, n); });
}

void activation_backward(Activation a, float* dx, const float* dout, const float* x, int64_t n) {
  dispatch(a, [&]<Activation A>() { bwd<A>(dx, dout, x, n); });
}

void gated_forward(Activation a, float* out, const float* gate, const float* up, int64_t n) {
  dispatch(a, [&]<Activation A>() { gated_fwd<A>(out, gate, up, n); });
}

void gated_backward(Activation a, float* dgate, float* dup, const float* dout, const float* gate, const float* up,
                    int64_t n) {
  dispatch(a, [&]<Activation A>() { gated_bwd<A>(dgate, dup, dout, gate, up, n); });
}

}  // namespace peft
