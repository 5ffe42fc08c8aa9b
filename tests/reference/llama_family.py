"""LLaMA / Mistral / Qwen2 reference (HF LlamaForCausalLM, MistralForCausalLM,
Qwen2ForCausalLM semantics, eager attention, fp32).

Block:  h = h + o_proj(attn(input_layernorm(h)));  h = h + down(silu(gate(x)) * up(x)), x = post_attention_layernorm(h)
RMSNorm: w * (x * rsqrt(mean(x^2) + eps)); RoPE rotate_half on the full head, theta = rope_theta
(llama default 10000); GQA: query head h uses kv head h // (n_heads / n_kv_heads).
Qwen2: q/k/v_proj carry biases, o_proj does not.  Mistral: sliding-window causal mask,
key j visible to query i iff j <= i and i - j < sliding_window (current transformers).
hidden_states[0] = embed_tokens output, [i] = residual after block i, [L] = after model.norm.
"""
import math

import torch
import torch.nn.functional as F

from common import ACT, Init, additive_causal_mask, rope_cos_sin, rotate_half


def _dims(cfg):
    nh = cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh
    hd = cfg.get("head_dim") or cfg["hidden_size"] // nh
    return nh, nkv, hd


def _qkv_bias(cfg):
    return cfg["model_type"] == "qwen2"


def init_weights(cfg, seed):
    C, I, V, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    nh, nkv, hd = _dims(cfg)
    r = Init(seed)
    r.w("model.embed_tokens.weight", V, C)
    for l in range(L):
        p = f"model.layers.{l}."
        r.w(p + "self_attn.q_proj.weight", nh * hd, C)
        r.w(p + "self_attn.k_proj.weight", nkv * hd, C)
        r.w(p + "self_attn.v_proj.weight", nkv * hd, C)
        if _qkv_bias(cfg):
            r.b(p + "self_attn.q_proj.bias", nh * hd)
            r.b(p + "self_attn.k_proj.bias", nkv * hd)
            r.b(p + "self_attn.v_proj.bias", nkv * hd)
        r.w(p + "self_attn.o_proj.weight", C, nh * hd)
        r.w(p + "mlp.gate_proj.weight", I, C)
        r.w(p + "mlp.up_proj.weight", I, C)
        r.w(p + "mlp.down_proj.weight", C, I)
        r.norm_w(p + "input_layernorm.weight", C)
        r.norm_w(p + "post_attention_layernorm.weight", C)
    r.norm_w("model.norm.weight", C)
    if not cfg.get("tie_word_embeddings", False):
        r.w("lm_head.weight", V, C)
    return r.out


def rms_norm(x, w, eps):
    input_dtype = x.dtype
    x = x.to(torch.float32)
    variance = x.pow(2).mean(-1, keepdim=True)
    x = x * torch.rsqrt(variance + eps)
    return w * x.to(input_dtype)


def _window(cfg):
    mt = cfg["model_type"]
    if mt == "llama":
        return None
    if mt == "mistral":
        return cfg.get("sliding_window")
    if mt == "qwen2":
        if cfg.get("use_sliding_window", False):
            raise NotImplementedError("qwen2 use_sliding_window=true (per-layer max_window_layers) not modelled")
        return None
    raise ValueError(mt)


def forward(cfg, W, input_ids, attention_mask, embed_hook=None):
    """embed_hook(h) -> h': an input-centric adapter (AdaLink) on the token embeddings."""
    assert bool((attention_mask == 1).all()), "reference supports all-ones masks only"
    B, T = input_ids.shape
    C, L = cfg["hidden_size"], cfg["num_hidden_layers"]
    nh, nkv, hd = _dims(cfg)
    eps = cfg["rms_norm_eps"]
    theta = cfg.get("rope_theta", 10000)
    if cfg.get("rope_scaling"):
        raise NotImplementedError("rope_scaling")
    act = ACT[cfg.get("hidden_act", "silu")]
    get = W.get

    positions = torch.arange(T, dtype=torch.int64)[None].expand(B, T)
    cos, sin = rope_cos_sin(hd, theta, positions)
    mask = additive_causal_mask(T, sliding_window=_window(cfg))

    h = F.embedding(input_ids, W["model.embed_tokens.weight"])
    if embed_hook is not None:
        h = embed_hook(h)
    hs = []
    for l in range(L):
        hs.append(h)
        p = f"model.layers.{l}."
        residual = h
        x = rms_norm(h, W[p + "input_layernorm.weight"], eps)
        q = F.linear(x, W[p + "self_attn.q_proj.weight"], get(p + "self_attn.q_proj.bias"))
        k = F.linear(x, W[p + "self_attn.k_proj.weight"], get(p + "self_attn.k_proj.bias"))
        v = F.linear(x, W[p + "self_attn.v_proj.weight"], get(p + "self_attn.v_proj.bias"))
        q = q.view(B, T, nh, hd).transpose(1, 2)
        k = k.view(B, T, nkv, hd).transpose(1, 2)
        v = v.view(B, T, nkv, hd).transpose(1, 2)
        q = (q * cos) + (rotate_half(q) * sin)
        k = (k * cos) + (rotate_half(k) * sin)
        rep = nh // nkv
        if rep > 1:  # repeat_kv
            k = k[:, :, None].expand(B, nkv, rep, T, hd).reshape(B, nh, T, hd)
            v = v[:, :, None].expand(B, nkv, rep, T, hd).reshape(B, nh, T, hd)
        a = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(hd)
        a = a + mask
        a = F.softmax(a, dim=-1, dtype=torch.float32).to(q.dtype)
        o = torch.matmul(a, v).transpose(1, 2).contiguous().reshape(B, T, nh * hd)
        o = F.linear(o, W[p + "self_attn.o_proj.weight"])
        h = residual + o
        residual = h
        x = rms_norm(h, W[p + "post_attention_layernorm.weight"], eps)
        m = F.linear(act(F.linear(x, W[p + "mlp.gate_proj.weight"])) * F.linear(x, W[p + "mlp.up_proj.weight"]),
                     W[p + "mlp.down_proj.weight"])
        h = residual + m
    h = rms_norm(h, W["model.norm.weight"], eps)
    hs.append(h)
    head = W["lm_head.weight"] if "lm_head.weight" in W else W["model.embed_tokens.weight"]
    if cfg.get("tie_word_embeddings", False):
        head = W["model.embed_tokens.weight"]
    logits = F.linear(h, head)
    return {"logits": logits, "hidden_states": hs, "last_hidden_state": h}
