// ModelConfig and BlockSpec: everything the one decoder needs to know about an architecture.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/activations.h"
#include "kernels/rope.h"

namespace peft {

enum class NormKind { LayerNorm, RmsNorm };
enum class QkNorm {
  None,
  PerHead,  // over each head (weights (hd)): Qwen3, Gemma 3
  Whole,    // over the whole projection (weights (H·hd) / (Hkv·hd)): OLMo 2
};
// None: no absolute positions at all (DeBERTa-v3: relative terms in the attention only).
enum class PositionKind { Learned, Rope, Alibi, None };
// Row layout of a fused query/key/value projection's output.
enum class QkvLayout {
  Separate,  // three projections q, k, v
  Blocked,   // one projection, output [q (H·hd) | k (Hkv·hd) | v (Hkv·hd)] (GPT-2 c_attn)
  PerHead,   // one projection, output per head [q_h | k_h | v_h] (GPT-NeoX, BLOOM)
};

// The shape of one transformer block, as data: architectures differ only here and in
// their tensor names.
struct BlockSpec {
  NormKind norm = NormKind::RmsNorm;
  PositionKind position = PositionKind::Rope;
  RopeSpec rope;  // when position == Rope
  Activation act = Activation::Silu;
  bool gated_mlp = true;  // down(act(gate x) ⊙ up x) instead of down(act(up x))
  // Gate and up as one projection (the FfnUp site) whose output rows are [gate (F) | up (F)]
  // (Phi-3's gate_up_proj); gated MLPs only.
  bool fused_gate_up = false;
  QkvLayout qkv = QkvLayout::Separate;
  bool parallel_residual = false;  // x + attn(n1 x) + mlp(n2 x)
  bool shared_block_norm = false;  // parallel block with one norm (GPT-J)
  bool post_norm = false;          // x = n1(x + attn x); x = n2(x + mlp x) (OPT-350m)
  bool qkv_bias = false;           // q/k/v projections have biases
  bool o_bias = false;             // the attention output projection has a bias
  bool mlp_bias = false;
  bool norm_bias = false;  // LayerNorm with bias
  // RMSNorm of q and of k (eps norm_eps) between the projections and RoPE.
  QkNorm qk_norm = QkNorm::None;
  // Where the norms of a sequential block sit (post_norm aside): on each sublayer's input
  // (pre-norm), on its output before the residual add, or both (Gemma 2/3's sandwich):
  //   x_mid = x + out1(attn(in1 x)),  out = x_mid + out2(mlp(in2 x_mid)).
  bool input_norms = true;       // in1, in2: attn_norm, ffn_norm
  bool output_norms = false;     // out1, out2: attn_out_norm, ffn_out_norm (OLMo 2 without inputs ones)
  bool tied_embeddings = false;  // lm_head = token embedding
  bool lm_head_bias = false;
  int64_t learned_pos_offset = 0;  // OPT's embed_positions offset (2)
};

// DeBERTa's disentangled attention (kernels/disentangled_attention.h): scores gain terms from
// relative-position embeddings (2·span rows, LayerNorm'd once at load) that each layer's own
// query and key projections project, adapters included, as PEFT's wrapped modules do.
struct RelativeAttention {
  bool on = false;           // the block attends with the disentangled kernel
  int64_t span = 0;          // S; 0 = no relative embeddings (relative_attention false)
  int64_t buckets = 0;       // position_buckets; 0 = plain distances
  int64_t max_position = 0;  // max_relative_positions
  bool c2p = false, p2c = false;
  bool norm = false;  // norm_rel_ebd "layer_norm"
  // Rows of position embeddings the query/key projections see after the tokens.
  int64_t rows() const { return span > 0 && (c2p || p2c) ? 2 * span : 0; }
};

struct ModelConfig {
  std::string arch;  // Hugging Face model_type, e.g. "llama"
  int64_t n_vocab = 0;
  int64_t n_embd = 0;  // C
  int64_t n_layer = 0;
  int64_t n_head = 0;          // H
  int64_t n_head_kv = 0;       // Hkv
  int64_t head_dim = 0;        // hd
  int64_t n_ff = 0;            // MLP width
  int64_t n_ctx = 0;           // max positions
  int64_t n_embd_in = 0;       // token-embedding width when it differs from n_embd (OPT's
                               // word_embed_proj_dim, with project_in/out); 0 = n_embd
  bool final_norm = true;      // a norm after the last block
  bool embd_norm = false;      // a LayerNorm right after the embedding (BLOOM)
  int64_t sliding_window = 0;  // attention window (Mistral); 0 = full causal
  // Per layer, whether the window applies (Gemma 2/3 alternate sliding and global layers);
  // empty: every layer has it.
  std::vector<uint8_t> sliding_layers;
  // RoPE of the sliding-window layers when it differs from block.rope (Gemma 3's local base).
  bool has_sliding_rope = false;
  RopeSpec sliding_rope;
  float norm_eps = 1e-5f;
  // Norms scale by (norm_weight_offset + w) where a checkpoint stores w (Gemma: 1). The loaded
  // Norm weights hold the sum; Hugging Face files hold w.
  float norm_weight_offset = 0.f;
  float embd_scale = 0.f;  // input vectors times this before block 0; 0 = 1 (Gemma: √C)
  // Only table lookups are scaled, not virtual tokens or caller-supplied vectors (Gemma 3's
  // scaled embedding module; Gemma 1/2 scale every input vector).
  bool embd_scale_tokens_only = false;
  float attn_scale = 0.f;     // score scale; 1/√hd unless the architecture says otherwise
  float attn_softcap = 0.f;   // scores → cap · tanh(scores / cap) before the mask (Gemma 2); 0 = off
  float logit_softcap = 0.f;  // the same on the final logits (Gemma 2)
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  // Encoders (BERT, RoBERTa): every query sees every real key of its row, and rows are
  // right-padded (TokenInputs::seq_lens). Decoders are causal.
  bool causal = true;
  int64_t n_token_types = 0;  // token-type (segment) embedding rows (BERT's type_vocab_size); 0 = none
  // RoBERTa's position ids: a token's position counts the non-pad ids up to it (position
  // = count − 1, table row = count + pad_id), and a pad id takes the table's row pad_id
  // (position −1 with learned_pos_offset = pad_id + 1). Otherwise positions are 0, 1, 2, ...
  bool pad_aware_positions = false;
  int32_t pad_id = -1;
  RelativeAttention rel;
  // DeBERTa's mask is m_i·m_j: a pad token's embedding is zeroed and its attention output is
  // zero, so its hidden states differ from BERT's (whose pad queries see the real keys).
  bool pad_rows_zero = false;
  // The attention takes prefix key/value rows (prefix tuning's past_key_values); DeBERTa's
  // does not, in transformers or here.
  bool kv_prefix = true;
  // The sequence head's pooler activation where the architecture reads it from the config
  // (DeBERTa's pooler_hidden_act; BERT's pooler is always tanh).
  Activation pooler_act = Activation::Tanh;
  BlockSpec block;

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t embd_in() const { return n_embd_in ? n_embd_in : n_embd; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
  // Per layer, whether its attention rotates q and k (SmolLM3 skips RoPE on some layers);
  // empty: every layer does.
  std::vector<uint8_t> rope_layers;
  bool uses_rope(int64_t layer) const {
    return block.position == PositionKind::Rope && (rope_layers.empty() || rope_layers[size_t(layer)]);
  }
  bool is_sliding(int64_t layer) const {
    return sliding_window > 0 && (sliding_layers.empty() || sliding_layers[size_t(layer)]);
  }
  int64_t window_of(int64_t layer) const { return is_sliding(layer) ? sliding_window : 0; }
  const RopeSpec& rope_of(int64_t layer) const {
    return has_sliding_rope && is_sliding(layer) ? sliding_rope : block.rope;
  }
};

}  // namespace peft
