// Disentangled attention: one query row at a time with its T scores in a per-thread buffer
// (memory linear in T; the backward recomputes the probabilities from the saved lse).
#include "kernels/disentangled_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace peft {

namespace {

float dot(const float* a, const float* b, int64_t n) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}
void axpy(float* y, float a, const float* x, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// The pk/pq row of every distance i − j ∈ [−(T−1), T−1], at index i − j + T − 1.
std::vector<int32_t> relative_rows(const DisentangledShape& s) {
  std::vector<int32_t> rows(static_cast<size_t>(2 * s.T - 1));
  if (!s.c2p && !s.p2c) return rows;  // no position terms (and maybe no span to clamp into)
  for (int64_t d = -(s.T - 1); d < s.T; ++d) rows[size_t(d + s.T - 1)] = int32_t(relative_row(d, s));
  return rows;
}

// The scores of query row (b, h, i) over its keys j < len, scaled.
void row_scores(float* score, const float* qi, const float* k, const float* pos_q, const float* pos_k,
                const int32_t* rel, int64_t b, int64_t h, int64_t i, int64_t len, const DisentangledShape& s) {
  const int64_t D = s.H * s.hd, hd = s.hd;
  for (int64_t j = 0; j < len; ++j) {
    const float* kj = k + (b * s.T + j) * D + h * hd;
    const int64_t r = rel[i - j + s.T - 1];
    float sc = dot(qi, kj, hd);
    if (s.c2p) sc += dot(qi, pos_k + r * D + h * hd, hd);
    if (s.p2c) sc += dot(kj, pos_q + r * D + h * hd, hd);
    score[j] = sc * s.scale;
  }
}

}  // namespace

int64_t relative_bucket(int64_t distance, int64_t buckets, int64_t max_position) {
  if (buckets <= 0 || max_position <= 0) return distance;
  const int64_t mid = buckets / 2, abs_pos = distance < 0 ? -distance : distance;
  if (abs_pos <= mid) return distance;
  // float32 throughout, as torch evaluates it (abs_pos / mid is a float tensor).
  const float ratio = float(abs_pos) / float(mid);
  const float range = std::log(float(double(max_position - 1) / double(mid)));
  const int64_t log_pos = int64_t(std::ceil(std::log(ratio) / range * float(mid - 1))) + mid;
  return distance < 0 ? -log_pos : log_pos;
}

int64_t relative_row(int64_t i_minus_j, const DisentangledShape& s) {
  if (s.span <= 0) return 0;  // no relative embeddings: nothing to index
  const int64_t r = relative_bucket(i_minus_j, s.buckets, s.max_position) + s.span;
  return std::clamp<int64_t>(r, 0, 2 * s.span - 1);
}

void disentangled_attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                                    const float* pos_q, const float* pos_k, const DisentangledShape& s) {
  const int64_t B = s.B, T = s.T, H = s.H, hd = s.hd, D = H * hd;
  const std::vector<int32_t> rel = relative_rows(s);
#pragma omp parallel
  {
    std::vector<float> score(static_cast<size_t>(T));
#pragma omp for collapse(2) schedule(static)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h) {
        const int64_t len = s.key_len ? s.key_len[b] : T;
        for (int64_t i = 0; i < T; ++i) {
          float* o = out + (b * T + i) * D + h * hd;
          std::memset(o, 0, size_t(hd) * sizeof(float));
          float* row_lse = lse ? lse + (b * H + h) * T + i : nullptr;
          if (i >= len) {  // a pad query: every key masked, output zero
            if (row_lse) *row_lse = 0.f;
            continue;
          }
          row_scores(score.data(), q + (b * T + i) * D + h * hd, k, pos_q, pos_k, rel.data(), b, h, i, len, s);
          const float mx = *std::max_element(score.begin(), score.begin() + len);
          float sum = 0.f;
          for (int64_t j = 0; j < len; ++j) sum += score[size_t(j)] = std::exp(score[size_t(j)] - mx);
          const float inv = 1.f / sum;
          for (int64_t j = 0; j < len; ++j) axpy(o, score[size_t(j)] * inv, v + (b * T + j) * D + h * hd, hd);
          if (row_lse) *row_lse = mx + std::log(sum);
        }
      }
  }
}

// With s_ij the scaled score and p_ij = exp(s_ij − lse_i), o_i = Σ_j p_ij v_j:
//   ∂v_j += p_ij ∂o_i;  ∂p_ij = ∂o_i·v_j;  ∂s_ij = p_ij (∂p_ij − Σ_j' p_ij' ∂p_ij') = p_ij (∂p_ij − ∂o_i·o_i).
// The raw score is (q_i·k_j + q_i·pk_r + k_j·pq_r) and s = scale · raw, so with g = scale · ∂s_ij:
//   ∂q_i += g (k_j + pk_r);  ∂k_j += g (q_i + pq_r);  ∂pk_r += g q_i;  ∂pq_r += g k_j.
// ∂pk/∂pq rows are shared by every batch row of a head, so the threads split the heads.
void disentangled_attention_backward(float* dq, float* dk, float* dv, float* d_pos_q, float* d_pos_k,
                                     const float* d_out, const float* q, const float* k, const float* v,
                                     const float* pos_q, const float* pos_k, const float* lse,
                                     const DisentangledShape& s) {
  const int64_t B = s.B, T = s.T, H = s.H, hd = s.hd, D = H * hd;
  const std::vector<int32_t> rel = relative_rows(s);
#pragma omp parallel
  {
    std::vector<float> p(static_cast<size_t>(T));
#pragma omp for schedule(static)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t b = 0; b < B; ++b) {
        const int64_t len = s.key_len ? s.key_len[b] : T;
        for (int64_t i = 0; i < len; ++i) {
          const float* qi = q + (b * T + i) * D + h * hd;
          const float* doi = d_out + (b * T + i) * D + h * hd;
          float* dqi = dq + (b * T + i) * D + h * hd;
          row_scores(p.data(), qi, k, pos_q, pos_k, rel.data(), b, h, i, len, s);
          const float row_lse = lse[(b * H + h) * T + i];
          // ∂o_i·o_i = Σ_j p_ij (∂o_i·v_j)
          float delta = 0.f;
          for (int64_t j = 0; j < len; ++j) {
            p[size_t(j)] = std::exp(p[size_t(j)] - row_lse);
            delta += p[size_t(j)] * dot(doi, v + (b * T + j) * D + h * hd, hd);
          }
          for (int64_t j = 0; j < len; ++j) {
            const float* kj = k + (b * T + j) * D + h * hd;
            const float* vj = v + (b * T + j) * D + h * hd;
            const int64_t r = rel[size_t(i - j + T - 1)];
            const float pj = p[size_t(j)];
            const float g = s.scale * pj * (dot(doi, vj, hd) - delta);
            axpy(dv + (b * T + j) * D + h * hd, pj, doi, hd);
            axpy(dqi, g, kj, hd);
            axpy(dk + (b * T + j) * D + h * hd, g, qi, hd);
            if (s.c2p) {
              axpy(dqi, g, pos_k + r * D + h * hd, hd);
              axpy(d_pos_k + r * D + h * hd, g, qi, hd);
            }
            if (s.p2c) {
              axpy(dk + (b * T + j) * D + h * hd, g, pos_q + r * D + h * hd, hd);
              axpy(d_pos_q + r * D + h * hd, g, kj, hd);
            }
          }
        }
      }
  }
}

}  // namespace peft
