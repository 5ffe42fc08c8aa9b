"""OPT reference (HF OPTForCausalLM as in transformers 4.31, eager attention, fp32).

Decoder (OPTDecoder.forward):
  e = embed_tokens(ids)                       [B, T, word_embed_proj_dim]
  pos = embed_positions rows (cumsum(mask)*mask - 1) + 2      [B, T, hidden]
  if project_in: e = project_in(e)            (word_embed_proj_dim -> hidden, no bias; BEFORE adding pos)
  h = e + pos                                 -> hidden_states[0]
  per layer: hidden_states.append(h) before the layer (so [i] = output of layer i-1)
  after the loop: final_layer_norm (exists only if do_layer_norm_before and not _remove_final_layer_norm),
  then project_out (hidden -> word_embed_proj_dim, no bias) if word_embed_proj_dim != hidden,
  then hidden_states.append(h) -> hidden_states[L] (= last_hidden_state; width word_embed_proj_dim).
Layer (OPTDecoderLayer):
  pre-LN  (do_layer_norm_before=True):  h = h + attn(LN_a(h));  h = h + fc2(act(fc1(LN_f(h))))
  post-LN (do_layer_norm_before=False): h = LN_a(h + attn(h));  h = LN_f(h + fc2(act(fc1(h))))
  LN_a = self_attn_layer_norm, LN_f = (layer's) final_layer_norm.
Attention: q = q_proj(x) * hd^-0.5, softmax(q k^T + causal mask), out_proj; all projections biased (enable_bias).
lm_head: Linear(word_embed_proj_dim -> vocab, no bias) tied to embed_tokens.
"""
import torch
import torch.nn.functional as F

from common import ACT, Init, additive_causal_mask


def _has_final_ln(cfg):
    return cfg.get("do_layer_norm_before", True) and not cfg.get("_remove_final_layer_norm", False)


def init_weights(cfg, seed):
    C, Fd, V, L = cfg["hidden_size"], cfg["ffn_dim"], cfg["vocab_size"], cfg["num_hidden_layers"]
    P = cfg.get("word_embed_proj_dim", C)
    assert cfg.get("enable_bias", True) and cfg.get("layer_norm_elementwise_affine", True)
    r = Init(seed)
    d = "model.decoder."
    r.w(d + "embed_tokens.weight", V, P)
    r.w(d + "embed_positions.weight", cfg["max_position_embeddings"] + 2, C)
    if P != C:
        r.w(d + "project_in.weight", C, P)
        r.w(d + "project_out.weight", P, C)
    for l in range(L):
        p = f"{d}layers.{l}."
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            r.w(p + f"self_attn.{n}.weight", C, C)
            r.b(p + f"self_attn.{n}.bias", C)
        r.norm_w(p + "self_attn_layer_norm.weight", C)
        r.norm_b(p + "self_attn_layer_norm.bias", C)
        r.w(p + "fc1.weight", Fd, C)
        r.b(p + "fc1.bias", Fd)
        r.w(p + "fc2.weight", C, Fd)
        r.b(p + "fc2.bias", C)
        r.norm_w(p + "final_layer_norm.weight", C)
        r.norm_b(p + "final_layer_norm.bias", C)
    if _has_final_ln(cfg):
        r.norm_w(d + "final_layer_norm.weight", C)
        r.norm_b(d + "final_layer_norm.bias", C)
    return r.out  # lm_head tied to embed_tokens: not stored


def forward(cfg, W, input_ids, attention_mask):
    B, T = input_ids.shape
    C, L, nh = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"]
    hd = C // nh
    scaling = hd ** -0.5
    pre = cfg.get("do_layer_norm_before", True)
    act = ACT[cfg.get("activation_function", "relu")]
    d = "model.decoder."

    def ln(x, name):
        return F.layer_norm(x, (C,), W[name + ".weight"], W[name + ".bias"], 1e-5)

    e = F.embedding(input_ids, W[d + "embed_tokens.weight"])
    am = attention_mask.long()
    positions = (torch.cumsum(am, dim=1).type_as(am) * am).long() - 1
    pos = F.embedding(positions + 2, W[d + "embed_positions.weight"])
    if d + "project_in.weight" in W:
        e = F.linear(e, W[d + "project_in.weight"])
    h = e + pos
    mask = additive_causal_mask(T)
    hs = []
    for l in range(L):
        hs.append(h)
        p = f"{d}layers.{l}."
        residual = h
        x = ln(h, p + "self_attn_layer_norm") if pre else h
        q = F.linear(x, W[p + "self_attn.q_proj.weight"], W[p + "self_attn.q_proj.bias"]) * scaling
        k = F.linear(x, W[p + "self_attn.k_proj.weight"], W[p + "self_attn.k_proj.bias"])
        v = F.linear(x, W[p + "self_attn.v_proj.weight"], W[p + "self_attn.v_proj.bias"])
        q = q.view(B, T, nh, hd).transpose(1, 2).reshape(B * nh, T, hd)
        k = k.view(B, T, nh, hd).transpose(1, 2).reshape(B * nh, T, hd)
        v = v.view(B, T, nh, hd).transpose(1, 2).reshape(B * nh, T, hd)
        a = torch.bmm(q, k.transpose(1, 2)).view(B, nh, T, T) + mask
        a = torch.max(a, torch.tensor(torch.finfo(a.dtype).min))
        a = F.softmax(a.view(B * nh, T, T), dim=-1)
        o = torch.bmm(a, v).view(B, nh, T, hd).transpose(1, 2).reshape(B, T, C)
        o = F.linear(o, W[p + "self_attn.out_proj.weight"], W[p + "self_attn.out_proj.bias"])
        h = residual + o
        if not pre:
            h = ln(h, p + "self_attn_layer_norm")
        shape = h.shape
        h2 = h.reshape(-1, C)
        residual = h2
        x = ln(h2, p + "final_layer_norm") if pre else h2
        x = F.linear(x, W[p + "fc1.weight"], W[p + "fc1.bias"])
        x = F.linear(act(x), W[p + "fc2.weight"], W[p + "fc2.bias"])
        h = (residual + x).view(shape)
        if not pre:
            h = ln(h, p + "final_layer_norm")
    if _has_final_ln(cfg):
        h = ln(h, d + "final_layer_norm")
    if d + "project_out.weight" in W:
        h = F.linear(h, W[d + "project_out.weight"])
    hs.append(h)
    logits = F.linear(h, W[d + "embed_tokens.weight"])
    return {"logits": logits, "hidden_states": hs, "last_hidden_state": h}
