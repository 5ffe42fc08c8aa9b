// The decoder's two ends: embedding stage in front, final norm + projection + LM head behind.
#pragma once
#include <cstdint>

#include "core/arena.h"
#include "model/model.h"
#include "model/site.h"
#include "model/token_inputs.h"

namespace peft {

// Embedding stage:  raw = tok_embd[ids]  (N, Ce)
//                   pre = project_in(raw) (+ pos_embd[positions + offset]) (+ type_embd[types])  (N, C)
//                   x0  = embd_norm(pre) or pre
struct EmbedActs {
  Tensor raw;         // (N, Ce) token embeddings; a caller may fill it directly (inputs_embeds)
  Tensor pre;         // (N, C)
  Tensor mean, rstd;  // (N) embd_norm statistics
};

// Head stage:  h = final_norm(x) or x  (N, C);  out = project_out(h) or h  (N, Ce);
//              logits = out · lm_headᵀ (+ bias).
struct HeadActs {
  Tensor h;           // (N, C)
  Tensor mean, rstd;  // (N)
  Tensor out;         // (N, Ce) (only when project_out exists)
  Tensor d_h;         // (N, C) backward scratch
};

template <typename Alloc>
EmbedActs alloc_embed_acts(Alloc& arena, const ModelConfig& c, int64_t N);
template <typename Alloc>
HeadActs alloc_head_acts(Alloc& arena, const ModelConfig& c, int64_t N, bool training);

// The token-embedding step of the training decoder and the KV-cached runner alike: for each
// of B rows, `nv` virtual tokens from the hooks (into virtual_buf (nv, Ce)) then the table
// rows of ids (B, T_in) into raw (B, nv + T_in, Ce); caller-supplied vectors replace rows
// where inputs.use_embedding says; then the hooks' embedding hook runs with each position's
// modality id (virtual tokens are text), written to modality_out (B · (nv + T_in)) first.
void embed_tokens(const Model& m, SiteHooks* hooks, const int32_t* ids, int64_t B, int64_t T_in, int64_t nv,
                  const TokenInputs& inputs, float* virtual_buf, float* raw, int32_t* modality_out);

// Looks up ids into a.raw, then embed_inputs_forward.
void embed_forward(const Model& m, const int32_t* ids, const int32_t* positions, int64_t N, EmbedActs& a, float* x0);
// x0 (N, C) from a.raw (already filled). token_types (N): encoders' segment ids, null = 0.
void embed_inputs_forward(const Model& m, const int32_t* positions, int64_t N, EmbedActs& a, float* x0,
                          const int32_t* token_types = nullptr);
// d_raw (N, Ce) = ∂L/∂raw given d_x0 (N, C). d_pre (N, C) is scratch.
void embed_backward(const Model& m, const EmbedActs& a, const float* d_x0, float* d_pre, float* d_raw, int64_t N);

// Runs the head stage up to the LM head's input; returns it (N, Ce).
const float* head_forward(const Model& m, const float* x, int64_t N, HeadActs& a);
// d_x (N, C) += ∂L/∂x given d_in (N, Ce) = ∂L/∂(LM head input).
void head_backward(const Model& m, HeadActs& a, const float* x, const float* d_in, float* d_x, int64_t N);

// logits (N, V) = in (N, Ce) · lm_headᵀ (+ bias), soft-capped when the config says.
void lm_head_forward(const Model& m, float* logits, const float* in, int64_t N);

}  // namespace peft
