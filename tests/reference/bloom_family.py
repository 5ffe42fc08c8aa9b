"""BLOOM reference (HF BloomForCausalLM as in transformers 4.31, fp32).

h = word_embeddings_layernorm(word_embeddings(ids))          -> hidden_states[0]
block: x = input_layernorm(h); h = h + dense(attn(x));
       y = post_attention_layernorm(h); h = h + dense_4h_to_h(gelu_tanh(dense_h_to_4h(y)))
       (apply_residual_connection_post_layernorm=false)
ln_f -> hidden_states[L]; tied head (word_embeddings).
Attention: fused query_key_value viewed [B, T, n_head, 3, hd] (per-head q|k|v);
scores = alibi + (q k^T) / sqrt(hd) (baddbmm beta=1, alpha=1/sqrt(hd)); causal mask with finfo.min.
ALiBi (build_alibi_tensor): c = 2^floor(log2 n_head); slopes base^(1..c), base = 2^(-2^-(log2 c - 3))
= 2^(-8/c); if n_head > c: extra_base = 2^(-2^-(log2 2c - 3)) = 2^(-4/c), powers 1, 3, 5, ...
(n_head - c of them); bias = slope_h * key position ((cumsum(mask) - 1) * mask).
"""
import math

import torch
import torch.nn.functional as F

from common import Init, bloom_gelu


def init_weights(cfg, seed):
    C, V, L = cfg["hidden_size"], cfg["vocab_size"], cfg["n_layer"]
    r = Init(seed)
    r.w("transformer.word_embeddings.weight", V, C)
    r.norm_w("transformer.word_embeddings_layernorm.weight", C)
    r.norm_b("transformer.word_embeddings_layernorm.bias", C)
    for l in range(L):
        p = f"transformer.h.{l}."
        r.norm_w(p + "input_layernorm.weight", C)
        r.norm_b(p + "input_layernorm.bias", C)
        r.w(p + "self_attention.query_key_value.weight", 3 * C, C)
        r.b(p + "self_attention.query_key_value.bias", 3 * C)
        r.w(p + "self_attention.dense.weight", C, C)
        r.b(p + "self_attention.dense.bias", C)
        r.norm_w(p + "post_attention_layernorm.weight", C)
        r.norm_b(p + "post_attention_layernorm.bias", C)
        r.w(p + "mlp.dense_h_to_4h.weight", 4 * C, C)
        r.b(p + "mlp.dense_h_to_4h.bias", 4 * C)
        r.w(p + "mlp.dense_4h_to_h.weight", C, 4 * C)
        r.b(p + "mlp.dense_4h_to_h.bias", C)
    r.norm_w("transformer.ln_f.weight", C)
    r.norm_b("transformer.ln_f.bias", C)
    return r.out


def alibi_slopes(num_heads):
    closest_power_of_2 = 2 ** math.floor(math.log2(num_heads))
    base = torch.tensor(2 ** (-(2 ** -(math.log2(closest_power_of_2) - 3))), dtype=torch.float32)
    powers = torch.arange(1, 1 + closest_power_of_2, dtype=torch.int32)
    slopes = torch.pow(base, powers)
    if closest_power_of_2 != num_heads:
        extra_base = torch.tensor(2 ** (-(2 ** -(math.log2(2 * closest_power_of_2) - 3))), dtype=torch.float32)
        num_remaining_heads = min(closest_power_of_2, num_heads - closest_power_of_2)
        extra_powers = torch.arange(1, 1 + 2 * num_remaining_heads, 2, dtype=torch.int32)
        slopes = torch.cat([slopes, torch.pow(extra_base, extra_powers)], dim=0)
    return slopes


def build_alibi_tensor(attention_mask, num_heads, dtype):
    B, T = attention_mask.shape
    slopes = alibi_slopes(num_heads)
    arange_tensor = ((attention_mask.cumsum(dim=-1) - 1) * attention_mask)[:, None, :]
    alibi = slopes[..., None] * arange_tensor
    return alibi.reshape(B * num_heads, 1, T).to(dtype)


def forward(cfg, W, input_ids, attention_mask):
    B, T = input_ids.shape
    C, L, nh = cfg["hidden_size"], cfg["n_layer"], cfg["n_head"]
    hd = C // nh
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    assert not cfg.get("apply_residual_connection_post_layernorm", False)

    def ln(x, name):
        return F.layer_norm(x, (C,), W[name + ".weight"], W[name + ".bias"], eps)

    h = ln(F.embedding(input_ids, W["transformer.word_embeddings.weight"]), "transformer.word_embeddings_layernorm")
    alibi = build_alibi_tensor(attention_mask, nh, h.dtype)
    causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)[None, None]  # True = masked
    inv_norm = 1.0 / math.sqrt(hd)
    hs = []
    for l in range(L):
        hs.append(h)
        p = f"transformer.h.{l}."
        x = ln(h, p + "input_layernorm")
        residual = h
        qkv = F.linear(x, W[p + "self_attention.query_key_value.weight"], W[p + "self_attention.query_key_value.bias"])
        qkv = qkv.view(B, T, nh, 3, hd)
        q, k, v = qkv[..., 0, :], qkv[..., 1, :], qkv[..., 2, :]
        q = q.transpose(1, 2).reshape(B * nh, T, hd)
        k = k.permute(0, 2, 3, 1).reshape(B * nh, hd, T)
        v = v.transpose(1, 2).reshape(B * nh, T, hd)
        s = alibi.baddbmm(batch1=q, batch2=k, beta=1.0, alpha=inv_norm).view(B, nh, T, T)
        s = torch.masked_fill(s, causal, torch.finfo(s.dtype).min)
        pr = F.softmax(s, dim=-1, dtype=torch.float32).view(B * nh, T, T)
        ctx = torch.bmm(pr, v).view(B, nh, T, hd).permute(0, 2, 1, 3).reshape(B, T, C)
        h = F.linear(ctx, W[p + "self_attention.dense.weight"], W[p + "self_attention.dense.bias"]) + residual
        y = ln(h, p + "post_attention_layernorm")
        residual = h
        y = bloom_gelu(F.linear(y, W[p + "mlp.dense_h_to_4h.weight"], W[p + "mlp.dense_h_to_4h.bias"]))
        h = F.linear(y, W[p + "mlp.dense_4h_to_h.weight"], W[p + "mlp.dense_4h_to_h.bias"]) + residual
    h = ln(h, "transformer.ln_f")
    hs.append(h)
    logits = F.linear(h, W["transformer.word_embeddings.weight"])
    return {"logits": logits, "hidden_states": hs, "last_hidden_state": h}
