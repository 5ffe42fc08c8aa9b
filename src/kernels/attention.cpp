// Causal softmax attention with GQA, a KV past, ALiBi and left padding: scalar loops parallel
// over heads.
#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/check.h"

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

// Per-thread row buffer of at least n floats; it only grows, so steady state allocates nothing.
float* row_scratch(int64_t n) {
  thread_local std::vector<float> buf;
  if (int64_t(buf.size()) < n) buf.resize(size_t(n));
  return buf.data();
}

struct Layout {
  int64_t past, group, kv_rows;
  int64_t q_row, kv_row;  // element strides between consecutive tokens of q/out and of k/v
};

Layout check_shape(const AttentionShape& s) {
  PEFT_CHECK(s.B >= 0 && s.T >= 0 && s.hd > 0, "bad attention shape B={} T={} hd={}", s.B, s.T,
             s.hd);
  PEFT_CHECK(s.H > 0 && s.Hkv > 0 && s.H % s.Hkv == 0, "H={} must be a multiple of Hkv={}", s.H,
             s.Hkv);
  PEFT_CHECK(s.Tk >= s.T, "Tk={} < T={}", s.Tk, s.T);
  const int64_t kv_rows = s.kv_rows ? s.kv_rows : s.Tk;
  PEFT_CHECK(kv_rows >= s.Tk, "kv_rows={} < Tk={}", kv_rows, s.Tk);
  return {s.Tk - s.T, s.H / s.Hkv, kv_rows, s.H * s.hd, s.Hkv * s.hd};
}

}  // namespace

void attention_forward(float* out, float* probs, const float* q, const float* k, const float* v,
                       const AttentionShape& s) {
  const Layout L = check_shape(s);
  const int64_t B = s.B, T = s.T, H = s.H, hd = s.hd, Tk = s.Tk;
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t t = 0; t < T; ++t) {
        const int64_t kvh = h / L.group;
        const int64_t i = L.past + t, n = i + 1;  // the query's key index; keys [0, n) are causal
        float* o = out + (b * T + t) * L.q_row + h * hd;
        float* p = probs ? probs + ((b * H + h) * T + t) * Tk : row_scratch(n);
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
        const float* kb = k + b * L.kv_rows * L.kv_row + kvh * hd;  // key j at kb + j·kv_row
        const float* vb = v + b * L.kv_rows * L.kv_row + kvh * hd;
        const float slope = s.alibi_slopes ? s.alibi_slopes[h] : 0.f, scale = s.scale;
        // Visible keys: [a0, a1) before the pads (position j), [b0, n) after them (j − pad).
        const int64_t seg[2][3] = {{a0, a1, 0}, {b0, n, pad}};
        if (probs)
          for (int64_t j = 0; j < Tk; ++j) p[j] = 0.f;  // masked keys are exact zeros for backward
        float mx = -INFINITY;
        for (const auto& g : seg)
          for (int64_t j = g[0]; j < g[1]; ++j) {
            const float sc = scale * dot(qt, kb + j * L.kv_row, hd) + slope * float(j - g[2]);
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

// Per query row: S = scale·q kᵀ (+ alibi, constant in q, k), P = softmax(S), o = P v.
//   dv_j += P_j · do;  dP_j = do · v_j;  softmax Jacobian: dS_j = P_j (dP_j − Σ_i P_i dP_i);
//   dq += scale · Σ_j dS_j k_j;  dk_j += scale · dS_j q.
// Query heads of one KV group write the same dk/dv rows, so threads own (batch, kv head) pairs.
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* probs,
                        const AttentionShape& s) {
  const Layout L = check_shape(s);
  PEFT_CHECK(!s.key_pad, "attention_backward: left padding is an inference-only feature");
  const int64_t B = s.B, T = s.T, H = s.H, Hkv = s.Hkv, hd = s.hd, Tk = s.Tk;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t kvh = 0; kvh < Hkv; ++kvh) {
      const int64_t kv_off = b * L.kv_rows * L.kv_row + kvh * hd;
      const float* kb = k + kv_off;
      const float* vb = v + kv_off;
      float* dkb = dk + kv_off;
      float* dvb = dv + kv_off;
      float* dp = row_scratch(Tk);
      for (int64_t h = kvh * L.group; h < (kvh + 1) * L.group; ++h) {
        for (int64_t t = 0; t < T; ++t) {
          const int64_t n = L.past + t + 1;
          const int64_t j0 = s.window > 0 && n > s.window ? n - s.window : 0;
          const int64_t qo = (b * T + t) * L.q_row + h * hd;
          const float* p = probs + ((b * H + h) * T + t) * Tk;
          const float* do_t = dout + qo;
          float pdp = 0.f;
          for (int64_t j = j0; j < n; ++j) {
            dp[j] = dot(do_t, vb + j * L.kv_row, hd);
            pdp += p[j] * dp[j];
            axpy(dvb + j * L.kv_row, p[j], do_t, hd);
          }
          const float* qt = q + qo;
          float* dqt = dq + qo;
          for (int64_t j = j0; j < n; ++j) {
            const float ds = p[j] * (dp[j] - pdp) * s.scale;
            axpy(dqt, ds, kb + j * L.kv_row, hd);
            axpy(dkb + j * L.kv_row, ds, qt, hd);
          }
        }
      }
    }
  }
}

}  // namespace peft
