// Rotary position embeddings: rotate-half (LLaMA/NeoX) or interleaved (GPT-J/llama2.c), partial rotary.
#pragma once
#include <cstdint>
#include <vector>

namespace peft {

enum class RopeLayout {
  RotateHalf,   // pairs (i, i + rot_dim/2), Hugging Face rotate_half
  Interleaved,  // pairs (2i, 2i + 1), GPT-J rotate_every_two
};

// How the frequencies are stretched for contexts beyond the pre-training length, as
// transformers' ROPE_INIT_FUNCTIONS compute them (rope_scaling / rope_parameters "rope_type").
enum class RopeScaling {
  None,      // "default": f_i = theta^(-2i/rot_dim)
  Linear,    // f_i / factor (position interpolation)
  Dynamic,   // NTK: theta grows with the forward's length beyond max_positions
  Llama3,    // Llama 3.1+: low frequencies / factor, high kept, a smooth ramp between
  LongRope,  // Phi-3: f_i / short_factor[i], or / long_factor[i] beyond original_max_positions
  Yarn,      // YaRN: interpolation/extrapolation blended by a linear ramp over the dims
};

struct RopeSpec {
  int64_t rot_dim = 0;  // rotated leading dims of each head (even, <= head_dim)
  float theta = 10000.0f;
  RopeLayout layout = RopeLayout::RotateHalf;
  // rot_dim = int(head_dim * rotary_fraction) when rot_dim is left 0 (partial_rotary_factor).
  double rotary_fraction = 1.0;
  RopeScaling scaling = RopeScaling::None;
  double factor = 1.0;                           // linear, dynamic, llama3, yarn
  double low_freq_factor = 1.0;                  // llama3
  double high_freq_factor = 4.0;                 // llama3
  int64_t original_max_positions = 0;            // llama3, longrope, yarn: the pre-training length
  int64_t max_positions = 0;                     // dynamic: max_position_embeddings
  std::vector<float> short_factor, long_factor;  // longrope, rot_dim/2 each
  double beta_fast = 32.0, beta_slow = 1.0;      // yarn
  bool yarn_truncate = true;                     // yarn
  // cos and sin are multiplied by this (longrope, yarn: transformers' attention_scaling).
  float attention_factor = 1.0f;

  // Unscaled RoPE over the first rot_dim dims.
  static RopeSpec plain(int64_t rot_dim, float theta, RopeLayout layout) {
    RopeSpec s;
    s.rot_dim = rot_dim;
    s.theta = theta;
    s.layout = layout;
    return s;
  }
};

// The rot_dim/2 inverse frequencies of a forward whose positions are all < seq_len
// (dynamic NTK and LongRoPE depend on it, as transformers' dynamic_rope_update does).
void rope_inv_freq(const RopeSpec& spec, int64_t seq_len, float* inv_freq);

// In place on x (N, H, hd) where row n has position positions[n]:
// pair (a, b) with frequency f_i (rope_inv_freq with seq_len = max position + 1) becomes
// m·(a cos φ − b sin φ, b cos φ + a sin φ), φ = pos · f_i, m = attention_factor (fp32 like
// PyTorch).
void rope_forward(float* x, const int32_t* positions, int64_t N, int64_t H, int64_t hd, const RopeSpec& spec);
// In place on the gradient dx (N, H, hd): the map is m times a rotation, so ∂L/∂x is m·∂L/∂y
// rotated by −φ.
void rope_backward(float* dx, const int32_t* positions, int64_t N, int64_t H, int64_t hd, const RopeSpec& spec);

}  // namespace peft
