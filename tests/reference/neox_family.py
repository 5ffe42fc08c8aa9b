"""GPT-NeoX reference (HF GPTNeoXForCausalLM as in transformers 4.31, fp32).

h = embed_in(ids) -> hidden_states[0]
parallel  (use_parallel_residual=true):  h = mlp(ln2(h)) + attn(ln1(h)) + h
sequential(use_parallel_residual=false): a = attn(ln1(h)) + h;  h = mlp(ln2(a)) + a
  ln1 = input_layernorm, ln2 = post_attention_layernorm, mlp = dense_4h_to_h(act(dense_h_to_4h))
final_layer_norm -> hidden_states[L]; head = embed_out (no bias, untied).
Attention: query_key_value output viewed [B, T, nh, 3*hd] (per-head q|k|v); RoPE (rotate_half,
base rotary_emb_base) on the first rotary_ndims = int(hd * rotary_pct) dims of q and k only;
scores = (q k^T) * (1/sqrt(hd)) (baddbmm alpha), causal via finfo.min.
"""
import torch
import torch.nn.functional as F

from common import ACT, Init, rope_cos_sin, rotate_half


def init_weights(cfg, seed):
    C, I, V, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    r = Init(seed)
    r.w("gpt_neox.embed_in.weight", V, C)
    for l in range(L):
        p = f"gpt_neox.layers.{l}."
        r.norm_w(p + "input_layernorm.weight", C)
        r.norm_b(p + "input_layernorm.bias", C)
        r.norm_w(p + "post_attention_layernorm.weight", C)
        r.norm_b(p + "post_attention_layernorm.bias", C)
        r.w(p + "attention.query_key_value.weight", 3 * C, C)
        r.b(p + "attention.query_key_value.bias", 3 * C)
        r.w(p + "attention.dense.weight", C, C)
        r.b(p + "attention.dense.bias", C)
        r.w(p + "mlp.dense_h_to_4h.weight", I, C)
        r.b(p + "mlp.dense_h_to_4h.bias", I)
        r.w(p + "mlp.dense_4h_to_h.weight", C, I)
        r.b(p + "mlp.dense_4h_to_h.bias", C)
    r.norm_w("gpt_neox.final_layer_norm.weight", C)
    r.norm_b("gpt_neox.final_layer_norm.bias", C)
    if cfg.get("tie_word_embeddings", False):
        raise NotImplementedError("tied gpt_neox head")
    r.w("embed_out.weight", V, C)
    return r.out


def forward(cfg, W, input_ids, attention_mask):
    assert bool((attention_mask == 1).all())
    B, T = input_ids.shape
    C, L, nh = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"]
    hd = C // nh
    rot = int(hd * cfg["rotary_pct"])
    eps = cfg["layer_norm_eps"]
    act = ACT[cfg["hidden_act"]]
    if cfg.get("rope_scaling"):
        raise NotImplementedError("rope_scaling")
    parallel = cfg.get("use_parallel_residual", True)
    norm_factor = torch.sqrt(torch.tensor(hd, dtype=torch.float32))
    alpha = float(torch.tensor(1.0, dtype=torch.float32) / norm_factor)

    def ln(x, name):
        return F.layer_norm(x, (C,), W[name + ".weight"], W[name + ".bias"], eps)

    positions = torch.arange(T, dtype=torch.int64)[None].expand(B, T)
    cos, sin = rope_cos_sin(rot, cfg.get("rotary_emb_base", 10000), positions)
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))[None, None]  # True = keep
    h = F.embedding(input_ids, W["gpt_neox.embed_in.weight"])
    hs = []
    for l in range(L):
        hs.append(h)
        p = f"gpt_neox.layers.{l}."
        x = ln(h, p + "input_layernorm")
        qkv = F.linear(x, W[p + "attention.query_key_value.weight"], W[p + "attention.query_key_value.bias"])
        qkv = qkv.view(B, T, nh, 3 * hd)
        q = qkv[..., :hd].permute(0, 2, 1, 3)
        k = qkv[..., hd:2 * hd].permute(0, 2, 1, 3)
        v = qkv[..., 2 * hd:].permute(0, 2, 1, 3)
        q_rot, q_pass = q[..., :rot], q[..., rot:]
        k_rot, k_pass = k[..., :rot], k[..., rot:]
        q_rot = (q_rot * cos) + (rotate_half(q_rot) * sin)
        k_rot = (k_rot * cos) + (rotate_half(k_rot) * sin)
        q = torch.cat((q_rot, q_pass), dim=-1)
        k = torch.cat((k_rot, k_pass), dim=-1)
        qf = q.reshape(B * nh, T, hd)
        kf = k.reshape(B * nh, T, hd)
        s = torch.zeros(B * nh, T, T, dtype=q.dtype)
        s = torch.baddbmm(s, qf, kf.transpose(1, 2), beta=1.0, alpha=alpha).view(B, nh, T, T)
        s = torch.where(causal, s, torch.tensor(torch.finfo(s.dtype).min, dtype=s.dtype))
        pr = F.softmax(s, dim=-1)
        o = torch.matmul(pr, v).permute(0, 2, 1, 3).contiguous().view(B, T, C)
        attn = F.linear(o, W[p + "attention.dense.weight"], W[p + "attention.dense.bias"])

        def mlp(y):
            y = act(F.linear(y, W[p + "mlp.dense_h_to_4h.weight"], W[p + "mlp.dense_h_to_4h.bias"]))
            return F.linear(y, W[p + "mlp.dense_4h_to_h.weight"], W[p + "mlp.dense_4h_to_h.bias"])

        if parallel:
            h = mlp(ln(h, p + "post_attention_layernorm")) + attn + h
        else:
            a = attn + h
            h = mlp(ln(a, p + "post_attention_layernorm")) + a
    h = ln(h, "gpt_neox.final_layer_norm")
    hs.append(h)
    logits = F.linear(h, W["embed_out.weight"])
    return {"logits": logits, "hidden_states": hs, "last_hidden_state": h}
