// Causal multi-head softmax attention with grouped KV heads (GQA), optional ALiBi and (inference)
// left padding.
#pragma once
#include <cstdint>

namespace peft {

struct AttentionShape {
  int64_t B = 0;        // batch
  int64_t T = 0;        // queries per row
  int64_t Tk = 0;       // keys per row = past + T (query t sees keys [0, past + t])
  int64_t H = 0;        // query heads
  int64_t Hkv = 0;      // key/value heads; query head h reads kv head h / (H / Hkv)
  int64_t hd = 0;       // head dim
  int64_t kv_rows = 0;  // rows per batch item in the k/v buffers (>= Tk; a KV cache's capacity). 0 → Tk
  float scale = 0.f;    // score scale, usually 1/√hd
  const float* alibi_slopes = nullptr;  // (H) or null: score += slope_h · key_position
  int64_t window = 0;                   // sliding window: query i sees key j only if i − j < window (0 = off)
  float softcap = 0.f;                  // scores → softcap · tanh(scores / softcap) before the mask (0 = off)
  // Left padding (batched generation, inference only): row b's keys [pad_at, pad_at + key_pad[b])
  // are padding. No query sees them, and key/query positions (ALiBi, window) skip them, so a
  // padded row computes exactly what it would alone. A pad query's output is zero. Null = none.
  const int32_t* key_pad = nullptr;  // (B)
  int64_t pad_at = 0;                // where every row's pads start (after prefix/virtual tokens)
  // Encoders (training kernel only): causal = false lets query t see every key [0, key_len[b])
  // of its row, not only [0, past + t]; key_len (B) null = all Tk. Right padding: keys from
  // key_len[b] on are pads no query sees (pad queries still attend to the real keys, as
  // Hugging Face's additive mask has them). key_len[b] ≥ 1.
  bool causal = true;
  const int32_t* key_len = nullptr;  // (B)
  // Ragged batch (a server's decode step, inference only): row b's keys/values live in a
  // buffer of its own, row_k[b] / row_v[b] (kv_rows, Hkv, hd), which holds row_past[b]
  // positions before this call; the k, v arguments are then unused and past = Tk − T is
  // ignored. Null = the common layout. Not combined with key_pad.
  const float* const* row_k = nullptr;  // (B)
  const float* const* row_v = nullptr;  // (B)
  const int32_t* row_past = nullptr;    // (B)
};

// q (B, T, H, hd); k, v (B, kv_rows, Hkv, hd); out (B, T, H, hd) overwritten;
// probs (B, H, T, Tk), when given, receives the softmax rows, masked keys exactly 0 (tests
// inspect them; the training backward is flash_attention_backward, which needs none).
void attention_forward(float* out, float* probs, const float* q, const float* k, const float* v,
                       const AttentionShape& s);

}  // namespace peft
