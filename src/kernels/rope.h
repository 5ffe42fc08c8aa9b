// Rotary position embeddings: rotate-half (LLaMA/NeoX) or interleaved (GPT-J/llama2.c), partial rotary.
#pragma once
#include <cstdint>

namespace peft {

enum class RopeLayout {
  RotateHalf,   // pairs (i, i + rot_dim/2), Hugging Face rotate_half
  Interleaved,  // pairs (2i, 2i + 1), GPT-J rotate_every_two
};

struct RopeSpec {
  int64_t rot_dim = 0;  // rotated leading dims of each head (even, <= head_dim)
  float theta = 10000.0f;
  RopeLayout layout = RopeLayout::RotateHalf;
};

// In place on x (N, H, hd) where row n has position positions[n]:
// pair (a, b) with frequency f_i = theta^(-2i/rot_dim) becomes
// (a cos φ − b sin φ, b cos φ + a sin φ), φ = pos · f_i (computed in fp32 like PyTorch).
void rope_forward(float* x, const int32_t* positions, int64_t N, int64_t H, int64_t hd, const RopeSpec& spec);
// In place on the gradient dx (N, H, hd): the rotation is orthogonal, so ∂L/∂x is ∂L/∂y
// rotated by −φ.
void rope_backward(float* dx, const int32_t* positions, int64_t N, int64_t H, int64_t hd, const RopeSpec& spec);

}  // namespace peft
