"""GPT-J reference (HF GPTJForCausalLM as in transformers 4.31, fp32).

h = wte(ids) -> hidden_states[0]; block (one norm, parallel): x = ln_1(h);
h = attn(x) + fc_out(gelu_new(fc_in(x))) + h;  ln_f -> hidden_states[L];  lm_head WITH bias.
Attention: q/k/v/out_proj without bias; RoPE "rotate_every_two" (interleaved pairs (2i, 2i+1)) on
the first rotary_dim dims of each head (all of it when rotary_dim == head_dim), tables
create_sinusoidal_positions(n_positions, rotary_dim): inv_freq = 1/10000^(arange(0,dim,2)/dim),
sin/cos repeat_interleave(2); scores = where(causal, q k^T, finfo.min) / sqrt(hd).
"""
import torch
import torch.nn.functional as F

from common import ACT, Init


def init_weights(cfg, seed):
    C, V, L = cfg["n_embd"], cfg["vocab_size"], cfg["n_layer"]
    I = cfg.get("n_inner") or 4 * C
    r = Init(seed)
    r.w("transformer.wte.weight", V, C)
    for l in range(L):
        p = f"transformer.h.{l}."
        r.norm_w(p + "ln_1.weight", C)
        r.norm_b(p + "ln_1.bias", C)
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            r.w(p + f"attn.{n}.weight", C, C)
        r.w(p + "mlp.fc_in.weight", I, C)
        r.b(p + "mlp.fc_in.bias", I)
        r.w(p + "mlp.fc_out.weight", C, I)
        r.b(p + "mlp.fc_out.bias", C)
    r.norm_w("transformer.ln_f.weight", C)
    r.norm_b("transformer.ln_f.bias", C)
    r.w("lm_head.weight", V, C)
    r.b("lm_head.bias", V)
    return r.out


def create_sinusoidal_positions(num_pos, dim):
    inv_freq = 1.0 / (10000 ** (torch.arange(0, dim, 2) / dim))
    sinusoid_inp = torch.einsum("i , j -> i j", torch.arange(num_pos, dtype=torch.float), inv_freq).float()
    return torch.cat((torch.sin(sinusoid_inp), torch.cos(sinusoid_inp)), dim=1)


def rotate_every_two(x):
    x1 = x[:, :, :, ::2]
    x2 = x[:, :, :, 1::2]
    return torch.stack((-x2, x1), dim=-1).flatten(-2)


def apply_rotary_pos_emb(t, sin, cos):
    sin = torch.repeat_interleave(sin[:, :, None, :], 2, 3)
    cos = torch.repeat_interleave(cos[:, :, None, :], 2, 3)
    return (t * cos) + (rotate_every_two(t) * sin)


def forward(cfg, W, input_ids, attention_mask):
    assert bool((attention_mask == 1).all())
    B, T = input_ids.shape
    C, L, nh = cfg["n_embd"], cfg["n_layer"], cfg["n_head"]
    hd = C // nh
    rd = cfg.get("rotary_dim")
    if rd is None:
        raise NotImplementedError("rotary_dim=None (HF then builds tables of width n_embd)")
    eps = cfg["layer_norm_epsilon"]
    act = ACT[cfg["activation_function"]]
    scale_attn = torch.sqrt(torch.tensor(hd, dtype=torch.float32)).to(torch.get_default_dtype())

    def ln(x, name):
        return F.layer_norm(x, (C,), W[name + ".weight"], W[name + ".bias"], eps)

    pos_table = create_sinusoidal_positions(cfg["n_positions"], rd)
    position_ids = torch.arange(T, dtype=torch.int64)[None].expand(B, T)
    sincos = pos_table[position_ids]
    sin, cos = torch.split(sincos, sincos.shape[-1] // 2, dim=-1)
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))[None, None]
    h = F.embedding(input_ids, W["transformer.wte.weight"])
    hs = []
    for l in range(L):
        hs.append(h)
        p = f"transformer.h.{l}."
        residual = h
        x = ln(h, p + "ln_1")
        q = F.linear(x, W[p + "attn.q_proj.weight"]).view(B, T, nh, hd)
        k = F.linear(x, W[p + "attn.k_proj.weight"]).view(B, T, nh, hd)
        v = F.linear(x, W[p + "attn.v_proj.weight"]).view(B, T, nh, hd).permute(0, 2, 1, 3)
        k = torch.cat([apply_rotary_pos_emb(k[..., :rd], sin, cos), k[..., rd:]], dim=-1)
        q = torch.cat([apply_rotary_pos_emb(q[..., :rd], sin, cos), q[..., rd:]], dim=-1)
        k = k.permute(0, 2, 1, 3)
        q = q.permute(0, 2, 1, 3)
        s = torch.matmul(q, k.transpose(-1, -2))
        s = torch.where(causal, s, torch.tensor(torch.finfo(s.dtype).min, dtype=s.dtype))
        s = s / scale_attn
        pr = F.softmax(s, dim=-1)
        o = torch.matmul(pr, v).permute(0, 2, 1, 3).contiguous().view(B, T, C)
        attn = F.linear(o, W[p + "attn.out_proj.weight"])
        ff = F.linear(act(F.linear(x, W[p + "mlp.fc_in.weight"], W[p + "mlp.fc_in.bias"])),
                      W[p + "mlp.fc_out.weight"], W[p + "mlp.fc_out.bias"])
        h = attn + ff + residual
    h = ln(h, "transformer.ln_f")
    hs.append(h)
    logits = F.linear(h, W["lm_head.weight"], W["lm_head.bias"]).to(torch.float32)
    return {"logits": logits, "hidden_states": hs, "last_hidden_state": h}
