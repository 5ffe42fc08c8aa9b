// Pointwise activations (GELU tanh/exact, SiLU, ReLU, tanh) and SwiGLU, forward and backward.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace peft {

// Tanh is not a model activation (no Hugging Face name maps to it): bottleneck adapters use it.
enum class Activation { GeluTanh, GeluExact, Silu, Relu, Identity, Tanh };

// Hugging Face's names: gelu_new / gelu_pytorch_tanh / gelu_fast → GeluTanh, gelu → GeluExact,
// silu / swish → Silu, relu → Relu.
std::optional<Activation> activation_from_hf_name(std::string_view name);

// out (n) = act(x); out may alias x.
void activation_forward(Activation act, float* out, const float* x, int64_t n);
// dx (n) += act'(x) · dout.
void activation_backward(Activation act, float* dx, const float* dout, const float* x, int64_t n);

// Gated MLP: out (n) = act(gate) ⊙ up.
void gated_forward(Activation act, float* out, const float* gate, const float* up, int64_t n);
// dgate += act'(gate) · up · dout;  dup += act(gate) · dout.
void gated_backward(Activation act, float* dgate, float* dup, const float* dout, const float* gate, const float* up,
                    int64_t n);

}  // namespace peft
