// DeBERTa's disentangled self-attention (He et al., "DeBERTa", 2021; transformers'
// modeling_deberta_v2.py), forward and backward, bidirectional over right-padded rows.
//
// The score of query i and key j adds to the content term q_i·k_j a content-to-position term
// q_i·pk_r (c2p) and a position-to-content term k_j·pq_r (p2c), where r = r(i − j) picks a row
// of the relative-position embeddings projected by the layer's own key and query projections
// (pk, pq: (2S, H·hd)); all three are divided by √(hd·f), f = 1 + the number of position terms.
// transformers gathers p2c at clamp(−r(j − i) + S); the log buckets are odd, so that is the
// same row r(i − j) as c2p's.
#pragma once
#include <cstdint>

namespace peft {

struct DisentangledShape {
  int64_t B = 0, T = 0, H = 0, hd = 0;
  int64_t span = 0;          // S: pk/pq have 2S rows; relative distances map to [0, 2S)
  int64_t buckets = 0;       // position_buckets (log buckets beyond ±buckets/2); 0 = plain distances
  int64_t max_position = 0;  // max_relative_positions (the log buckets' range)
  bool c2p = false, p2c = false;
  float scale = 0.f;                 // 1/√(hd·f)
  const int32_t* key_len = nullptr;  // (B) real tokens of each row (right padding); null = all T
};

// transformers' make_log_bucket_position: distances within ±buckets/2 stay, longer ones take
// ceil(log(|d|/mid) / log((max_position − 1)/mid) · (mid − 1)) + mid with d's sign, in float32
// as torch computes it. Without buckets the distance itself.
int64_t relative_bucket(int64_t distance, int64_t buckets, int64_t max_position);

// The pk/pq row of query i and key j: clamp(bucket(i − j) + S, 0, 2S − 1); 0 without a span.
int64_t relative_row(int64_t i_minus_j, const DisentangledShape& s);

// out (B, T, H·hd) = softmax(scores over each row's real keys) · v; q, k, v (B, T, H·hd),
// pos_q, pos_k (2S, H·hd) (unused when their term is off); lse (B, H, T) each row's
// log-sum-exp for the backward, or null. DeBERTa's mask is m_i·m_j: a pad query's output
// row is zero (XSoftmax zeroes its fully masked row).
void disentangled_attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                                    const float* pos_q, const float* pos_k, const DisentangledShape& s);

// Accumulates ∂L/∂q, ∂L/∂k, ∂L/∂v (B, T, H·hd) and ∂L/∂pos_q, ∂L/∂pos_k (2S, H·hd) given
// d_out = ∂L/∂out and the forward's lse. Pad rows get nothing.
void disentangled_attention_backward(float* dq, float* dk, float* dv, float* d_pos_q, float* d_pos_k,
                                     const float* d_out, const float* q, const float* k, const float* v,
                                     const float* pos_q, const float* pos_k, const float* lse,
                                     const DisentangledShape& s);

}  // namespace peft
