"""Plain-PyTorch (no transformers) encoder forwards: BERT, RoBERTa, DeBERTa-v2 (transformers 4.31
semantics, fp32, eval, no dropout), written from the description in README.md ("Encoder
fixtures"). make_encoder_fixtures.py runs them on every encoder fixture and checks them against
the transformers outputs, so the formulas in the README are machine-checked.

forward(cfg, W, input_ids, attention_mask, token_type_ids) -> {"hidden_states": [L+1 x [B,T,C]],
"logits", "pooled_output" (BERT pooler / DeBERTa ContextPooler, when the model has one)}.
cfg: the config.json dict; W: {HF tensor name: tensor} (model.safetensors, optionally with a LoRA
adapter merged in via lora_delta()).
"""
import math

import torch
import torch.nn.functional as F

_ACT = {"gelu": F.gelu, "relu": F.relu, "tanh": torch.tanh}


def _lin(W, p, x):
    y = x @ W[p + ".weight"].T
    return y + W[p + ".bias"] if p + ".bias" in W else y


def _ln(W, p, x, eps):
    return F.layer_norm(x, (x.shape[-1],), W[p + ".weight"], W[p + ".bias"], eps)


def _heads(x, nh):  # [B,T,C] -> [B,nh,T,hd]
    B, T, C = x.shape
    return x.view(B, T, nh, C // nh).transpose(1, 2)


def _merge(x):  # [B,nh,T,hd] -> [B,T,C]
    B, nh, T, hd = x.shape
    return x.transpose(1, 2).reshape(B, T, nh * hd)


def _ffn_and_norms(cfg, W, p, x, ctx):
    """BERT-style post-LN tail shared by all three: attention output dense + residual + LN,
    intermediate dense + act, output dense + residual + LN."""
    eps = cfg["layer_norm_eps"]
    a = _ln(W, p + ".attention.output.LayerNorm", _lin(W, p + ".attention.output.dense", ctx) + x, eps)
    i = _ACT[cfg["hidden_act"]](_lin(W, p + ".intermediate.dense", a))
    return _ln(W, p + ".output.LayerNorm", _lin(W, p + ".output.dense", i) + a, eps)


# ---------------------------------------------------------------------------------- BERT / RoBERTa
def roberta_position_ids(ids, pad):
    m = (ids != pad).long()
    return torch.cumsum(m, dim=1) * m + pad


def _bert_like(cfg, W, pre, ids, mask, tt):
    B, T = ids.shape
    if cfg["model_type"] == "roberta":
        pos = roberta_position_ids(ids, cfg["pad_token_id"])
    else:
        pos = torch.arange(T)[None].expand(B, T)
    h = (W[pre + "embeddings.word_embeddings.weight"][ids]
         + W[pre + "embeddings.token_type_embeddings.weight"][tt]
         + W[pre + "embeddings.position_embeddings.weight"][pos])
    h = _ln(W, pre + "embeddings.LayerNorm", h, cfg["layer_norm_eps"])
    hs = [h]
    nh = cfg["num_attention_heads"]
    hd = cfg["hidden_size"] // nh
    add = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min  # keys only
    for l in range(cfg["num_hidden_layers"]):
        p = f"{pre}encoder.layer.{l}"
        q = _heads(_lin(W, p + ".attention.self.query", h), nh)
        k = _heads(_lin(W, p + ".attention.self.key", h), nh)
        v = _heads(_lin(W, p + ".attention.self.value", h), nh)
        s = q @ k.transpose(-1, -2) / math.sqrt(hd) + add
        ctx = _merge(torch.softmax(s, dim=-1) @ v)
        h = _ffn_and_norms(cfg, W, p, h, ctx)
        hs.append(h)
    return hs


# ---------------------------------------------------------------------------------- DeBERTa-v2
def make_log_bucket_position(rel, bucket_size, max_position):
    """float32, op for op as transformers 4.31 (ceil of a float32 log ratio)."""
    sign = torch.sign(rel)
    mid = bucket_size // 2
    abs_pos = torch.where((rel < mid) & (rel > -mid), torch.tensor(mid - 1).type_as(rel), rel.abs())
    log_pos = torch.ceil(torch.log(abs_pos / mid) / torch.log(torch.tensor((max_position - 1) / mid))
                         * (mid - 1)) + mid
    return torch.where(abs_pos <= mid, rel.type_as(log_pos), log_pos * sign).long()


def deberta_rel_pos(T, cfg):
    """delta[i, j] = bucket(i - j) (query i, key j), int64 [T, T]."""
    r = torch.arange(T)[:, None] - torch.arange(T)[None, :]
    maxrel = cfg.get("max_relative_positions", -1)
    if maxrel < 1:
        maxrel = cfg["max_position_embeddings"]
    buckets = cfg.get("position_buckets", -1)
    if buckets > 0:
        r = make_log_bucket_position(r, buckets, maxrel)
    return r, (buckets if buckets > 0 else maxrel)


def _deberta(cfg, W, ids, mask, tt):
    assert cfg.get("relative_attention") and not cfg.get("position_biased_input", True)
    assert cfg.get("share_att_key") and cfg["type_vocab_size"] == 0
    eps = cfg["layer_norm_eps"]
    B, T = ids.shape
    mf = mask.float()
    h = _ln(W, "deberta.embeddings.LayerNorm", W["deberta.embeddings.word_embeddings.weight"][ids], eps)
    h = h * mf[..., None]  # the embedding output is multiplied by the mask
    hs = [h]
    rel = W["deberta.encoder.rel_embeddings.weight"]
    if "layer_norm" in cfg.get("norm_rel_ebd", "none"):
        rel = _ln(W, "deberta.encoder.LayerNorm", rel, eps)
    delta, span = deberta_rel_pos(T, cfg)
    idx = torch.clamp(delta + span, 0, 2 * span - 1)  # [T, T]
    rel = rel[: 2 * span][None]  # [1, 2span, C]
    pat = cfg["pos_att_type"]
    nh = cfg["num_attention_heads"]
    hd = cfg["hidden_size"] // nh
    scale = math.sqrt(hd * (1 + len(pat)))
    keep = (mf[:, None, :, None] * mf[:, None, None, :]).bool()  # [B,1,Tq,Tk]: query AND key valid
    for l in range(cfg["num_hidden_layers"]):
        p = f"deberta.encoder.layer.{l}"
        sp = p + ".attention.self"
        q = _heads(_lin(W, sp + ".query_proj", h), nh)
        k = _heads(_lin(W, sp + ".key_proj", h), nh)
        v = _heads(_lin(W, sp + ".value_proj", h), nh)
        pq = _heads(_lin(W, sp + ".query_proj", rel), nh)[0]  # [nh, 2span, hd] (share_att_key)
        pk = _heads(_lin(W, sp + ".key_proj", rel), nh)[0]
        s = q @ k.transpose(-1, -2) / scale
        if "c2p" in pat:  # s[i,j] += q_i . pk[idx[i,j]]
            c2p = q @ pk.transpose(-1, -2)  # [B,nh,T,2span]
            s = s + torch.gather(c2p, -1, idx.expand(B, nh, T, T)) / scale
        if "p2c" in pat:  # s[i,j] += k_j . pq[idx[i,j]]
            p2c = k @ pq.transpose(-1, -2)  # [B,nh,Tk,2span]: row j
            s = s + torch.gather(p2c, -1, idx.T.expand(B, nh, T, T)).transpose(-1, -2) / scale
        s = s.masked_fill(~keep, torch.finfo(torch.float32).min)
        probs = torch.softmax(s, dim=-1).masked_fill(~keep, 0.0)
        ctx = _merge(probs @ v)
        h = _ffn_and_norms(cfg, W, p, h, ctx)
        hs.append(h)
    return hs


# ---------------------------------------------------------------------------------- heads
def forward(cfg, W, ids, mask, tt):
    arch = cfg["architectures"][0]
    mt = cfg["model_type"]
    out = {}
    if mt == "deberta-v2":
        hs = _deberta(cfg, W, ids, mask, tt)
        pooled = _ACT[cfg["pooler_hidden_act"]](_lin(W, "pooler.dense", hs[-1][:, 0]))
        out["pooled_output"] = pooled
        logits = _lin(W, "classifier", pooled)
    else:
        pre = "bert." if mt == "bert" else "roberta."
        hs = _bert_like(cfg, W, pre, ids, mask, tt)
        if arch.endswith("ForTokenClassification"):
            logits = _lin(W, "classifier", hs[-1])
        elif mt == "roberta":  # RobertaClassificationHead on h[:, 0]
            logits = _lin(W, "classifier.out_proj", torch.tanh(_lin(W, "classifier.dense", hs[-1][:, 0])))
        else:  # BertPooler + Linear
            pooled = torch.tanh(_lin(W, "bert.pooler.dense", hs[-1][:, 0]))
            out["pooled_output"] = pooled
            logits = _lin(W, "classifier", pooled)
    out["hidden_states"] = hs
    out["logits"] = logits
    return out


def loss(cfg, logits, labels):
    """HF's loss for these heads. problem_type null: BERT/RoBERTa infer it (num_labels 1 ->
    regression; integer labels -> single-label; else multi-label); DeBERTa's null path is
    CE over the rows with label >= 0 (all rows here)."""
    arch = cfg["architectures"][0]
    if arch.endswith("ForTokenClassification"):
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
    pt = cfg.get("problem_type")
    n = logits.shape[-1]
    if pt is None:
        if n == 1:
            pt = "regression"
        elif labels.dtype == torch.int64:
            pt = "single_label_classification"
        else:
            pt = "multi_label_classification"
    if pt == "regression":
        return F.mse_loss(logits.squeeze(), labels.squeeze()) if n == 1 else F.mse_loss(logits, labels)
    if pt == "single_label_classification":
        return F.cross_entropy(logits.view(-1, n), labels.view(-1))
    return F.binary_cross_entropy_with_logits(logits, labels)


def apply_lora(W, adapter, adapter_cfg):
    """Fold a peft-0.6.2 LoRA SEQ_CLS adapter into a copy of W: for each '<m>.lora_A.weight' /
    '<m>.lora_B.weight' pair, W['<m>.weight'] += (lora_alpha / r) * B @ A; every other key
    (modules_to_save: the classifier head) replaces W[key]. Keys lose 'base_model.model.'."""
    W = dict(W)
    s = adapter_cfg["lora_alpha"] / adapter_cfg["r"]
    for key, t in adapter.items():
        k = key[len("base_model.model."):]
        if ".lora_A." in k:
            m = k.split(".lora_A.")[0]
            W[m + ".weight"] = W[m + ".weight"] + s * (adapter[key.replace(".lora_A.", ".lora_B.")] @ t)
        elif ".lora_B." not in k:
            assert k in W, k
            W[k] = t
    return W
