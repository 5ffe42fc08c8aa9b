// Pointwise activations and gated MLPs, in fp32 with PyTorch's formulas.
#include "kernels/activations.h"

#include <cmath>

namespace peft {
namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;  // √(2/π)
constexpr float kGeluCoef = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;  // 1/√(2π)
constexpr int64_t kParallelMin = 1 << 15;           // below this, threads cost more than they save

template <Activation A>
inline float act(float x) {
  if constexpr (A == Activation::GeluTanh) {
    return 0.5f * x * (1.f + std::tanh(kSqrt2OverPi * (x + kGeluCoef * x * x * x)));
  } else if constexpr (A == Activation::GeluExact) {
    return 0.5f * x * (1.f + std::erf(x * kInvSqrt2));
  } else if constexpr (A == Activation::Silu) {
    return x / (1.f + std::exp(-x));
  } else if constexpr (A == Activation::Relu) {
    return x > 0.f ? x : 0.f;
  } else {
    return x;
  }
}

// Derivatives:
//   gelu tanh: y = ½x(1 + tanh u), u = c(x + a x³) ⇒ y' = ½(1 + tanh u) + ½x(1 − tanh²u)·c(1 + 3a
//   x²) gelu exact: y = x Φ(x) ⇒ y' = Φ(x) + x φ(x), φ(x) = e^(−x²/2)/√(2π) silu: y = x σ(x) ⇒ y' =
//   σ(x)(1 + x(1 − σ(x))) relu: y' = [x > 0] (0 at x = 0, as PyTorch)
template <Activation A>
inline float act_grad(float x) {
  if constexpr (A == Activation::GeluTanh) {
    const float th = std::tanh(kSqrt2OverPi * (x + kGeluCoef * x * x * x));
    return 0.5f * (1.f + th) +
           0.5f * x * (1.f - th * th) * kSqrt2OverPi * (1.f + 3.f * kGeluCoef * x * x);
  } else if constexpr (A == Activation::GeluExact) {
    return 0.5f * (1.f + std::erf(x * kInvSqrt2)) + x * kInvSqrt2Pi * std::exp(-0.5f * x * x);
  } else if constexpr (A == Activation::Silu) {
    const float sg = 1.f / (1.f + std::exp(-x));
    return sg * (1.f + x * (1.f - sg));
  } else if constexpr (A == Activation::Relu) {
    return x > 0.f ? 1.f : 0.f;
  } else {
    return 1.f;
  }
}

template <Activation A>
void fwd(float* out, const float* x, int64_t n) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) out[i] = act<A>(x[i]);
}

template <Activation A>
void bwd(float* dx, const float* dout, const float* x, int64_t n) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) dx[i] += act_grad<A>(x[i]) * dout[i];
}

template <Activation A>
void gated_fwd(float* out, const float* gate, const float* up, int64_t n) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) out[i] = act<A>(gate[i]) * up[i];
}

// out = act(g)·u ⇒ ∂out/∂g = act'(g)·u, ∂out/∂u = act(g).
template <Activation A>
void gated_bwd(float* dgate, float* dup, const float* dout, const float* gate, const float* up,
               int64_t n) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    dgate[i] += act_grad<A>(gate[i]) * up[i] * dout[i];
    dup[i] += act<A>(gate[i]) * dout[i];
  }
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
  }
}

}  // namespace

std::optional<Activation> activation_from_hf_name(std::string_view name) {
  // gelu_fast is HF's other tanh approximation (same formula, rearranged); close enough to share.
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast")
    return Activation::GeluTanh;
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

void gated_backward(Activation a, float* dgate, float* dup, const float* dout, const float* gate,
                    const float* up, int64_t n) {
  dispatch(a, [&]<Activation A>() { gated_bwd<A>(dgate, dup, dout, gate, up, n); });
}

}  // namespace peft
