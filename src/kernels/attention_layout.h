// What both attention kernels (inference: attention.cpp, training: flash_attention.cpp) derive
// from an AttentionShape, and their per-thread scratch.
#pragma once
#include <cstdint>
#include <vector>

#include "core/check.h"
#include "kernels/attention.h"

namespace peft::attn {

struct Layout {
  int64_t past, group, kv_rows;
  int64_t q_row, kv_row;  // element strides between consecutive tokens of q/out and of k/v
};

inline Layout check_layout(const AttentionShape& s) {
  PEFT_CHECK(s.B >= 0 && s.T >= 0 && s.hd > 0, "bad attention shape B={} T={} hd={}", s.B, s.T, s.hd);
  PEFT_CHECK(s.H > 0 && s.Hkv > 0 && s.H % s.Hkv == 0, "H={} must be a multiple of Hkv={}", s.H, s.Hkv);
  PEFT_CHECK(s.Tk >= s.T, "Tk={} < T={}", s.Tk, s.T);
  const int64_t kv_rows = s.kv_rows ? s.kv_rows : s.Tk;
  PEFT_CHECK(kv_rows >= s.Tk, "kv_rows={} < Tk={}", kv_rows, s.Tk);
  return {s.Tk - s.T, s.H / s.Hkv, kv_rows, s.H * s.hd, s.Hkv * s.hd};
}

// Per-thread buffer of at least n floats; it only grows, so steady state allocates nothing.
inline float* scratch(int64_t n) {
  thread_local std::vector<float> buf;
  if (int64_t(buf.size()) < n) buf.resize(size_t(n));
  return buf.data();
}

}  // namespace peft::attn
