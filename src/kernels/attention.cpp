// Causal softmax attention with GQA, a KV past, ALiBi and left padding for inference: scalar
// loops parallel over heads. (Training uses flash_attention, which saves no probabilities.)
#include "kernels/attention.h"

#include <algorithm>
#include <cmath>

#include "kernels/attention_layout.h"

namespace peft {
namespace {

// `#pragma omp simd` lets the compiler vectorise the reduction without -ffast-math.
inline float dot(const float* a, const float* b, int64_t n) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

inline void axpy(float* y, float a, const float* x, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace

void attention_forward(float* out, float* probs, const float* q, const float* k, const float* v,
                       const AttentionShape& s) {
  const attn::Layout L = attn::check_layout(s);
  const int64_t B = s.B, T = s.T, H = s.H, hd = s.hd, Tk = s.Tk;
  PEFT_CHECK(!s.row_past || (s.row_k && s.row_v && !s.key_pad && !probs), "ragged attention: bad arguments");
  PEFT_CHECK(s.causal, "the KV-cached attention is causal; encoders run the full-sequence kernel");
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t t = 0; t < T; ++t) {
        const int64_t kvh = h / L.group;
        const int64_t past = s.row_past ? s.row_past[b] : L.past;
        const int64_t i = past + t, n = i + 1;  // the query's key index; keys [0, n) are causal
        float* o = out + (b * T + t) * L.q_row + h * hd;
        float* p = probs ? probs + ((b * H + h) * T + t) * Tk : attn::scratch(n);
        // Pad keys [pa, pe) drop out; logical positions skip them: pos(j) = j < pa ? j : j − pad.
        const int64_t pad = s.key_pad ? s.key_pad[b] : 0, pa = pad ? s.pad_at : n, pe = pa + pad;
        if (i >= pa && i < pe) {  // a pad query: nothing to attend to
          for (int64_t d = 0; d < hd; ++d) o[d] = 0.f;
          if (probs)
            for (int64_t j = 0; j < Tk; ++j) p[j] = 0.f;
          continue;
        }
        const int64_t qpos = i >= pe ? i - pad : i;
        const int64_t lo = s.window > 0 ? qpos - s.window + 1 : 0;  // first visible logical position
        const int64_t a0 = std::max<int64_t>(lo, 0), a1 = std::min(pa, n);
        const int64_t b0 = std::max(pe, lo + pad);
        const float* qt = q + (b * T + t) * L.q_row + h * hd;
        const float* kb = (s.row_k ? s.row_k[b] : k + b * L.kv_rows * L.kv_row) + kvh * hd;  // key j: kb + j·kv_row
        const float* vb = (s.row_v ? s.row_v[b] : v + b * L.kv_rows * L.kv_row) + kvh * hd;
        const float slope = s.alibi_slopes ? s.alibi_slopes[h] : 0.f, scale = s.scale;
        // Visible keys: [a0, a1) before the pads (position j), [b0, n) after them (j − pad).
        const int64_t seg[2][3] = {{a0, a1, 0}, {b0, n, pad}};
        if (probs)
          for (int64_t j = 0; j < Tk; ++j) p[j] = 0.f;  // masked keys are exact zeros for backward
        float mx = -INFINITY;
        for (const auto& g : seg)
          for (int64_t j = g[0]; j < g[1]; ++j) {
            float sc = scale * dot(qt, kb + j * L.kv_row, hd) + slope * float(j - g[2]);
            if (s.softcap > 0.f) sc = s.softcap * std::tanh(sc / s.softcap);
            p[j] = sc;
            mx = sc > mx ? sc : mx;
          }
        float sum = 0.f;
        for (const auto& g : seg)
          for (int64_t j = g[0]; j < g[1]; ++j) {
            p[j] = std::exp(p[j] - mx);
            sum += p[j];
          }
        const float inv = 1.f / sum;
        for (int64_t d = 0; d < hd; ++d) o[d] = 0.f;
        for (const auto& g : seg)
          for (int64_t j = g[0]; j < g[1]; ++j) {
            p[j] *= inv;
            axpy(o, p[j], vb + j * L.kv_row, hd);
          }
      }
    }
  }
}

}  // namespace peft
