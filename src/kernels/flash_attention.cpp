// Log-sum-exp attention: per (batch, kv head), keys and values are transposed once into
// (hd, Tkp) tiles (Tkp = Tk rounded up to 16, zero tail) so that the score loops run over 16
// contiguous keys — one AVX-512 register — for any head size (stories260K's hd is 8, where a
// per-key dot product over hd cannot vectorise). Query rows go four at a time so each key
// vector loaded feeds four FMAs.
//
// The products that sum over keys (P·V, dS·K) and those that spread over keys (dV += Pᵀ·dout,
// dK += dSᵀ·q) run key-major when a key's row is whole vectors (hd a multiple of 16: every
// real model from GPT-2 up): no 16-lane horizontal sum per output element, half the loads per
// FMA, dK and dV accumulated in place (GPT-2 124M shape: +9% training tokens/s). For hd 8 a
// two-keys-per-vector variant (a permute per row and key pair) measured no faster than the
// transposed loops, so small heads keep those.
#include "kernels/flash_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/attention_layout.h"
#include "kernels/vec_math.h"

namespace peft {
namespace {

using vec::kW;
using vec::load;
using vec::splat;
using vec::store;
using vec::vf;
constexpr int64_t kR = 4;  // query rows per group

struct Geometry : attn::Layout {
  int64_t Tkp;  // Tk rounded up to kW
};

Geometry geometry(const AttentionShape& s) {
  PEFT_CHECK(!s.row_past && !s.row_k, "flash attention has no ragged (per-row cache) layout");
  if (!s.causal && s.key_len)
    for (int64_t b = 0; b < s.B; ++b)
      PEFT_CHECK(s.key_len[b] >= 1 && s.key_len[b] <= s.Tk, "key_len[{}] = {} outside [1, {}]", b, s.key_len[b], s.Tk);
  return {attn::check_layout(s), (s.Tk + kW - 1) / kW * kW};
}

// dst (hd, Tkp) = the kv head's rows [0, Tk) transposed (src row j at src + j·stride), zero tail.
void transpose_in(float* dst, const float* src, int64_t Tk, int64_t Tkp, int64_t hd, int64_t stride) {
  for (int64_t d = 0; d < hd; ++d) std::memset(dst + d * Tkp + Tk, 0, size_t(Tkp - Tk) * sizeof(float));
  for (int64_t j = 0; j < Tk; ++j)
    for (int64_t d = 0; d < hd; ++d) dst[d * Tkp + j] = src[j * stride + d];
}

// dst row j (at dst + j·stride) += src (hd, Tkp) column j, j < Tk.
void transpose_add_out(float* dst, const float* src, int64_t Tk, int64_t Tkp, int64_t hd, int64_t stride) {
  for (int64_t j = 0; j < Tk; ++j)
    for (int64_t d = 0; d < hd; ++d) dst[j * stride + d] += src[d * Tkp + j];
}

// A group of up to kR consecutive query rows: row r sees keys [j0[r], n[r]); the group's
// vector loops cover [jb, je), whole vectors holding every row's span.
struct RowGroup {
  int64_t rows;
  int64_t j0[kR], n[kR];
  int64_t jb, je;
};

RowGroup row_group(const AttentionShape& s, int64_t b, int64_t past, int64_t t0, int64_t T) {
  RowGroup g;
  g.rows = std::min(kR, T - t0);
  for (int64_t r = 0; r < g.rows; ++r) {
    if (!s.causal) {  // bidirectional: every row sees its batch item's real keys
      g.n[r] = s.key_len ? s.key_len[b] : s.Tk;
      g.j0[r] = 0;
      continue;
    }
    g.n[r] = past + t0 + r + 1;
    g.j0[r] = s.window > 0 && g.n[r] > s.window ? g.n[r] - s.window : 0;
  }
  g.jb = g.j0[0] / kW * kW;
  g.je = (g.n[g.rows - 1] + kW - 1) / kW * kW;
  return g;
}

// out[r] (Tkp) over [jb, je) = mult · x_r · yt[:, j] + slope · j for the group's rows, x_r at
// x + r·x_row (hd values), yt (hd, Tkp).
void row_scores(float* out, int64_t out_row, const float* x, int64_t x_row, const float* yt, int64_t Tkp, int64_t hd,
                const RowGroup& g, float mult, float slope) {
  vf iota;
  for (int i = 0; i < kW; ++i) iota[i] = float(i);
  for (int64_t j = g.jb; j < g.je; j += kW) {
    vf acc[kR];
    const vf base = slope * (iota + float(j));
    for (int64_t r = 0; r < kR; ++r) acc[r] = base;
    for (int64_t d = 0; d < hd; ++d) {
      const vf y = load(yt + d * Tkp + j);
      for (int64_t r = 0; r < g.rows; ++r) acc[r] += (mult * x[r * x_row + d]) * y;
    }
    for (int64_t r = 0; r < g.rows; ++r) store(out + r * out_row + j, acc[r]);
  }
}

// out_r[d] = mult_r · Σ_j w_r[j] · yt[d][j] over [jb, je) (w is zero outside each row's span).
void row_weighted(float* out, int64_t out_row, const float* w, int64_t w_row, const float* yt, int64_t Tkp, int64_t hd,
                  const RowGroup& g, const float* mult, bool accumulate) {
  for (int64_t d = 0; d < hd; ++d) {
    vf acc[kR] = {};
    for (int64_t j = g.jb; j < g.je; j += kW) {
      const vf y = load(yt + d * Tkp + j);
      for (int64_t r = 0; r < g.rows; ++r) acc[r] += load(w + r * w_row + j) * y;
    }
    for (int64_t r = 0; r < g.rows; ++r) {
      const float v = mult[r] * vec::hsum(acc[r]);
      out[r * out_row + d] = accumulate ? out[r * out_row + d] + v : v;
    }
  }
}

// P·V and its gradients run key-major when a key's row is whole vectors (see the top).
bool key_major(int64_t hd) { return hd % kW == 0; }

// One chunk of NV vectors of the head: out_r (+)= mult_r · Σ_{j∈[lo,hi)} w_r[j] · y_j, y_j at
// y + j·y_row. All kR rows of w are read (a short group's extra rows are scratch), only
// `rows` are written.
template <int NV>
void keys_weighted_chunk(float* out, int64_t out_row, const float* w, int64_t w_row, const float* y, int64_t y_row,
                         int64_t lo, int64_t hi, int64_t rows, const float* mult, bool accumulate) {
  vf acc[kR][NV] = {};
  for (int64_t j = lo; j < hi; ++j) {
    vf yv[NV];
    for (int v = 0; v < NV; ++v) yv[v] = load(y + j * y_row + v * kW);
    for (int64_t r = 0; r < kR; ++r) {
      const float wr = w[r * w_row + j];
      for (int v = 0; v < NV; ++v) acc[r][v] += wr * yv[v];
    }
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int v = 0; v < NV; ++v) {
      float* o = out + r * out_row + v * kW;
      const vf x = mult[r] * acc[r][v];
      store(o, accumulate ? load(o) + x : x);
    }
}

// Key-major P·V: out_r (hd) (+)= mult_r · Σ_j w_r[j] · y_j over the group's
// keys, in chunks of up to four vectors (16 accumulators).
void keys_weighted(float* out, int64_t out_row, const float* w, int64_t w_row, const float* y, int64_t y_row,
                   int64_t hd, int64_t lo, int64_t hi, int64_t rows, const float* mult, bool accumulate) {
  for (int64_t d = 0; d < hd; d += 4 * kW) {
    float* o = out + d;
    const float* yd = y + d;
    switch ((hd - d) / kW) {
      case 1:
        keys_weighted_chunk<1>(o, out_row, w, w_row, yd, y_row, lo, hi, rows, mult, accumulate);
        break;
      case 2:
        keys_weighted_chunk<2>(o, out_row, w, w_row, yd, y_row, lo, hi, rows, mult, accumulate);
        break;
      case 3:
        keys_weighted_chunk<3>(o, out_row, w, w_row, yd, y_row, lo, hi, rows, mult, accumulate);
        break;
      default:
        keys_weighted_chunk<4>(o, out_row, w, w_row, yd, y_row, lo, hi, rows, mult, accumulate);
        break;
    }
  }
}

// One chunk: y_j += Σ_r w_r[j] · x_r for j ∈ [lo, hi) (the rows x_r held in registers; a short
// group's extra rows count as zero).
template <int NV>
void keys_accumulate_chunk(float* y, int64_t y_row, const float* w, int64_t w_row, const float* x, int64_t x_row,
                           int64_t lo, int64_t hi, int64_t rows) {
  vf xv[kR][NV];
  for (int64_t r = 0; r < kR; ++r)
    for (int v = 0; v < NV; ++v) xv[r][v] = r < rows ? load(x + r * x_row + v * kW) : vf{};
  for (int64_t j = lo; j < hi; ++j) {
    vf acc[NV];
    for (int v = 0; v < NV; ++v) acc[v] = load(y + j * y_row + v * kW);
    for (int64_t r = 0; r < kR; ++r) {
      const float wr = w[r * w_row + j];
      for (int v = 0; v < NV; ++v) acc[v] += wr * xv[r][v];
    }
    for (int v = 0; v < NV; ++v) store(y + j * y_row + v * kW, acc[v]);
  }
}

// Key-major dV += Pᵀ·dout and dK += dSᵀ·q, in place in the (strided) rows.
void keys_accumulate(float* y, int64_t y_row, const float* w, int64_t w_row, const float* x, int64_t x_row, int64_t hd,
                     int64_t lo, int64_t hi, int64_t rows) {
  for (int64_t d = 0; d < hd; d += 4 * kW) {
    switch ((hd - d) / kW) {
      case 1:
        keys_accumulate_chunk<1>(y + d, y_row, w, w_row, x + d, x_row, lo, hi, rows);
        break;
      case 2:
        keys_accumulate_chunk<2>(y + d, y_row, w, w_row, x + d, x_row, lo, hi, rows);
        break;
      case 3:
        keys_accumulate_chunk<3>(y + d, y_row, w, w_row, x + d, x_row, lo, hi, rows);
        break;
      default:
        keys_accumulate_chunk<4>(y + d, y_row, w, w_row, x + d, x_row, lo, hi, rows);
        break;
    }
  }
}

// A short group (rows < kR) leaves scratch rows of p from earlier groups: zeroed where a
// key-major loop reads all kR rows.
void zero_extra_rows(float* p, int64_t p_row, const RowGroup& g) {
  for (int64_t r = g.rows; r < kR; ++r) std::memset(p + r * p_row + g.jb, 0, size_t(g.je - g.jb) * sizeof(float));
}

// Soft-capping (Gemma 2): s → cap · tanh(s / cap) on [jb, je) of each row. With `dcap` (kR,
// Tkp) also keeps ∂capped/∂s = 1 − tanh² for the backward.
void softcap_rows(float* p, int64_t p_row, float* dcap, const RowGroup& g, float cap) {
  const float inv = 1.f / cap;
  for (int64_t r = 0; r < g.rows; ++r)
    for (int64_t j = g.jb; j < g.je; j += kW) {
      const vf t = vec::tanh(load(p + r * p_row + j) * inv);
      store(p + r * p_row + j, cap * t);
      if (dcap) store(dcap + r * p_row + j, 1.f - t * t);
    }
}

// p_r[j] = exp(p_r[j] − shift_r) on the row's span, 0 elsewhere in [jb, je).
void exp_rows(float* p, int64_t p_row, const RowGroup& g, const float* shift) {
  for (int64_t r = 0; r < g.rows; ++r) {
    float* pr = p + r * p_row;
    const vf m = splat(shift[r]);
    for (int64_t j = g.jb; j < g.je; j += kW) store(pr + j, vec::exp(load(pr + j) - m));
    for (int64_t j = g.jb; j < g.j0[r]; ++j) pr[j] = 0.f;
    for (int64_t j = g.n[r]; j < g.je; ++j) pr[j] = 0.f;
  }
}

}  // namespace

void flash_attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                             const AttentionShape& s) {
  const Geometry G = geometry(s);
  const int64_t B = s.B, T = s.T, H = s.H, Hkv = s.Hkv, hd = s.hd, Tk = s.Tk, Tkp = G.Tkp;
  const bool km = key_major(hd);
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t kvh = 0; kvh < Hkv; ++kvh) {
      float* kt = attn::scratch((2 * hd + kR) * Tkp);  // kt, vt (hd, Tkp); p (kR, Tkp)
      float* vt = kt + hd * Tkp;
      float* p = vt + hd * Tkp;
      const int64_t kv_off = b * G.kv_rows * G.kv_row + kvh * hd;
      transpose_in(kt, k + kv_off, Tk, Tkp, hd, G.kv_row);
      if (!km) transpose_in(vt, v + kv_off, Tk, Tkp, hd, G.kv_row);
      for (int64_t h = kvh * G.group; h < (kvh + 1) * G.group; ++h) {
        const float slope = s.alibi_slopes ? s.alibi_slopes[h] : 0.f;
        for (int64_t t0 = 0; t0 < T; t0 += kR) {
          const RowGroup g = row_group(s, b, G.past, t0, T);
          const int64_t qo = (b * T + t0) * G.q_row + h * hd;
          row_scores(p, Tkp, q + qo, G.q_row, kt, Tkp, hd, g, s.scale, slope);
          if (s.softcap > 0.f) softcap_rows(p, Tkp, nullptr, g, s.softcap);
          float mx[kR], inv[kR];
          for (int64_t r = 0; r < g.rows; ++r) {
            float m = -INFINITY;
            const float* pr = p + r * Tkp;
#pragma omp simd reduction(max : m)
            for (int64_t j = g.j0[r]; j < g.n[r]; ++j) m = std::max(m, pr[j]);
            mx[r] = m;
          }
          exp_rows(p, Tkp, g, mx);
          for (int64_t r = 0; r < g.rows; ++r) {
            float sum = 0.f;
            const float* pr = p + r * Tkp;
#pragma omp simd reduction(+ : sum)
            for (int64_t j = g.j0[r]; j < g.n[r]; ++j) sum += pr[j];
            inv[r] = 1.f / sum;
            if (lse) lse[(b * H + h) * T + t0 + r] = mx[r] + std::log(sum);
          }
          if (km)
            keys_weighted(out + qo, G.q_row, p, Tkp, v + kv_off, G.kv_row, hd, g.j0[0], g.n[g.rows - 1], g.rows, inv,
                          false);
          else
            row_weighted(out + qo, G.q_row, p, Tkp, vt, Tkp, hd, g, inv, false);
        }
      }
    }
  }
}

// Threads own (batch, kv head) pairs: the query heads of one group write the same dk/dv rows.
void flash_attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                              const float* v, const float* lse, const AttentionShape& s) {
  const Geometry G = geometry(s);
  const int64_t B = s.B, T = s.T, H = s.H, Hkv = s.Hkv, hd = s.hd, Tk = s.Tk, Tkp = G.Tkp;
  const bool km = key_major(hd);
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t kvh = 0; kvh < Hkv; ++kvh) {
      float* kt = attn::scratch((4 * hd + 3 * kR) * Tkp);  // kt, vt, dkt, dvt (hd, Tkp); p, ds, dcap (kR, Tkp)
      float* vt = kt + hd * Tkp;
      float* dkt = vt + hd * Tkp;
      float* dvt = dkt + hd * Tkp;
      float* p = dvt + hd * Tkp;
      float* ds = p + kR * Tkp;
      float* dcap = ds + kR * Tkp;
      const int64_t kv_off = b * G.kv_rows * G.kv_row + kvh * hd;
      transpose_in(kt, k + kv_off, Tk, Tkp, hd, G.kv_row);
      transpose_in(vt, v + kv_off, Tk, Tkp, hd, G.kv_row);
      if (!km) std::memset(dkt, 0, size_t(2 * hd * Tkp) * sizeof(float));
      const float ones[kR] = {1.f, 1.f, 1.f, 1.f};
      for (int64_t h = kvh * G.group; h < (kvh + 1) * G.group; ++h) {
        const float slope = s.alibi_slopes ? s.alibi_slopes[h] : 0.f;
        for (int64_t t0 = 0; t0 < T; t0 += kR) {
          const RowGroup g = row_group(s, b, G.past, t0, T);
          const int64_t qo = (b * T + t0) * G.q_row + h * hd;
          const float* qg = q + qo;
          const float* dog = dout + qo;
          row_scores(p, Tkp, qg, G.q_row, kt, Tkp, hd, g, s.scale, slope);
          if (s.softcap > 0.f) softcap_rows(p, Tkp, dcap, g, s.softcap);
          exp_rows(p, Tkp, g, lse + (b * H + h) * T + t0);              // P, zero off-span
          row_scores(ds, Tkp, dog, G.q_row, vt, Tkp, hd, g, 1.f, 0.f);  // dP_j = dout · v_j
          for (int64_t r = 0; r < g.rows; ++r) {
            float* pr = p + r * Tkp;
            float* dr = ds + r * Tkp;
            float pdp = 0.f;
#pragma omp simd reduction(+ : pdp)
            for (int64_t j = g.jb; j < g.je; ++j) pdp += pr[j] * dr[j];
#pragma omp simd
            for (int64_t j = g.jb; j < g.je; ++j) dr[j] = pr[j] * (dr[j] - pdp) * s.scale;  // dS
            if (s.softcap > 0.f) {  // through the cap: ∂s = ∂capped · (1 − tanh²)
              const float* cr = dcap + r * Tkp;
#pragma omp simd
              for (int64_t j = g.jb; j < g.je; ++j) dr[j] *= cr[j];
            }
          }
          if (km && g.rows < kR) {  // key-major loops read all kR rows
            zero_extra_rows(p, Tkp, g);
            zero_extra_rows(ds, Tkp, g);
          }
          if (km) {
            const int64_t lo = g.j0[0], hi = g.n[g.rows - 1];
            keys_accumulate(dv + kv_off, G.kv_row, p, Tkp, dog, G.q_row, hd, lo, hi,
                            g.rows);  // dv_j += Σ_r P_r[j] dout_r
            keys_accumulate(dk + kv_off, G.kv_row, ds, Tkp, qg, G.q_row, hd, lo, hi,
                            g.rows);  // dk_j += Σ_r dS_r[j] q_r
            keys_weighted(dq + qo, G.q_row, ds, Tkp, k + kv_off, G.kv_row, hd, lo, hi, g.rows, ones,
                          true);  // dq_r += dS_r k
            continue;
          }
          // dvt[d] += Σ_r dout_r[d] P_r;  dkt[d] += Σ_r q_r[d] dS_r.
          for (int64_t d = 0; d < hd; ++d) {
            for (int64_t j = g.jb; j < g.je; j += kW) {
              vf av = load(dvt + d * Tkp + j), ak = load(dkt + d * Tkp + j);
              for (int64_t r = 0; r < g.rows; ++r) {
                av += dog[r * G.q_row + d] * load(p + r * Tkp + j);
                ak += qg[r * G.q_row + d] * load(ds + r * Tkp + j);
              }
              store(dvt + d * Tkp + j, av);
              store(dkt + d * Tkp + j, ak);
            }
          }
          row_weighted(dq + qo, G.q_row, ds, Tkp, kt, Tkp, hd, g, ones, true);  // dq_r += dS_r k
        }
      }
      if (!km) {
        transpose_add_out(dk + kv_off, dkt, Tk, Tkp, hd, G.kv_row);
        transpose_add_out(dv + kv_off, dvt, Tk, Tkp, hd, G.kv_row);
      }
    }
  }
}

}  // namespace peft
