"""AdaMix (arXiv 2210.17451) mixture-of-LoRA reference for tests/adapters/adamix_test.cpp.

Base: the shared llama fixture (/work/shared/fixtures/llama/model, LlamaForCausalLM semantics as
llama_family.py), batch = its io.safetensors input_ids with two labels set to -100.
Adapter: AdaMix over LoRA on q_proj, v_proj, r 4, alpha 8 (scaling 2), num_experts 3,
share_up = share_down = false, no dropout; expert weights random N(0, 0.3^2) (non-identical,
so routing matters). Module m = the m-th selected projection in layer-then-site order
(l0.q, l0.v, l1.q, l1.v). While training, module m uses A_k, B_j with
  k = route(seed, m, 0) = counter_hash(seed, m, 0) % E,  j = counter_hash(seed, m, 1) % E,
counter_hash being SplitMix64's finaliser over seed ^ m*0x9e3779b97f4a7c15 ^ side*0xbf58476d1ce4e5b9
(src/adapters/adamix/adamix.h). Inference uses the averaged module (mean A, mean B).

Writes tests/fixtures/adamix/:
  adapter/adapter_config.json, adapter/adapter_model.safetensors  (the experts)
  io.safetensors: input_ids, labels, routing_seeds (I64 [2]), lambda (F32),
    logits_routed [2,12,V] + loss_routed (CE of the pass with seed 1),
    logits_avg (averaged module), consistency (½[KL(p1‖p2)+KL(p2‖p1)] mean over tokens with a
    target), loss_total = CE1 + lambda·consistency, grad.<expert name> of loss_total where
    KL(p1‖sg p2) and KL(p2‖sg p1) each carry the gradient of their first argument only.
Run: /usr/bin/python3 tests/reference/adamix_reference.py
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
from common import ACT, additive_causal_mask, rope_cos_sin, rotate_half  # noqa: E402
from llama_family import _dims, rms_norm  # noqa: E402

M64 = (1 << 64) - 1
SHARED = os.path.join(HERE, "..", "..", "..", "shared", "fixtures", "llama")
OUT = os.path.join(HERE, "..", "fixtures", "adamix")
R, ALPHA, E, LAMBDA = 4, 8.0, 3, 0.7
SEEDS = (12345, 987654321)
TARGETS = ("q_proj", "v_proj")


def counter_hash(seed, a, b):
    z = (seed ^ ((a * 0x9e3779b97f4a7c15) & M64) ^ ((b * 0xbf58476d1ce4e5b9) & M64)) & M64
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
    return z ^ (z >> 31)


def route(seed, module, side, num):
    return 0 if num <= 1 else counter_hash(seed, module, side) % num


def forward(cfg, W, ids, delta, post=None):
    """llama_family.forward with y += delta(layer, name, x) after q_proj / v_proj and, when given,
    y <- post(layer, name, y) on the outputs of o_proj and down_proj (series adapters)."""
    post = post or (lambda l, name, y: y)
    B, T = ids.shape
    L, eps = cfg["num_hidden_layers"], cfg["rms_norm_eps"]
    nh, nkv, hd = _dims(cfg)
    act = ACT[cfg.get("hidden_act", "silu")]
    positions = torch.arange(T, dtype=torch.int64)[None].expand(B, T)
    cos, sin = rope_cos_sin(hd, cfg.get("rope_theta", 10000), positions)
    mask = additive_causal_mask(T)
    h = F.embedding(ids, W["model.embed_tokens.weight"])
    for l in range(L):
        p = f"model.layers.{l}."
        res = h
        x = rms_norm(h, W[p + "input_layernorm.weight"], eps)
        q = F.linear(x, W[p + "self_attn.q_proj.weight"]) + delta(l, "q_proj", x)
        k = F.linear(x, W[p + "self_attn.k_proj.weight"])
        v = F.linear(x, W[p + "self_attn.v_proj.weight"]) + delta(l, "v_proj", x)
        q = q.view(B, T, nh, hd).transpose(1, 2)
        k = k.view(B, T, nkv, hd).transpose(1, 2)
        v = v.view(B, T, nkv, hd).transpose(1, 2)
        q = (q * cos) + (rotate_half(q) * sin)
        k = (k * cos) + (rotate_half(k) * sin)
        rep = nh // nkv
        if rep > 1:
            k = k[:, :, None].expand(B, nkv, rep, T, hd).reshape(B, nh, T, hd)
            v = v[:, :, None].expand(B, nkv, rep, T, hd).reshape(B, nh, T, hd)
        a = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(hd) + mask
        a = F.softmax(a, dim=-1, dtype=torch.float32)
        o = torch.matmul(a, v).transpose(1, 2).reshape(B, T, nh * hd)
        h = res + post(l, "o_proj", F.linear(o, W[p + "self_attn.o_proj.weight"]))
        res = h
        x = rms_norm(h, W[p + "post_attention_layernorm.weight"], eps)
        m = F.linear(act(F.linear(x, W[p + "mlp.gate_proj.weight"])) * F.linear(x, W[p + "mlp.up_proj.weight"]),
                     W[p + "mlp.down_proj.weight"])
        m = post(l, "down_proj", m)
        h = res + m
    h = rms_norm(h, W["model.norm.weight"], eps)
    return F.linear(h, W["lm_head.weight"])


def load_batch():
    """The shared llama fixture's config, weights, input_ids and labels (two set to -100)."""
    cfg = json.load(open(os.path.join(SHARED, "model", "config.json")))
    W, _ = safetensors_io.load(os.path.join(SHARED, "model", "model.safetensors"))
    io, _ = safetensors_io.load(os.path.join(SHARED, "io.safetensors"))
    ids = io["input_ids"]
    labels = ids.clone()
    labels[0, 3] = -100
    labels[1, 7] = -100
    return cfg, W, ids, labels


def consistency_loss(l1, l2, labels, lam):
    """CE of pass 1 and ½[KL(p1‖sg p2) + KL(p2‖sg p1)] over tokens with a target; returns
    (ce, consistency, ce + lam · consistency)."""
    V = l1.shape[-1]
    shift_labels = labels[:, 1:].reshape(-1)
    ce = F.cross_entropy(l1[:, :-1].reshape(-1, V), shift_labels, ignore_index=-100)
    keep = shift_labels != -100
    lp1 = F.log_softmax(l1[:, :-1].reshape(-1, V), -1)[keep]
    lp2 = F.log_softmax(l2[:, :-1].reshape(-1, V), -1)[keep]
    kl12 = (lp1.exp() * (lp1 - lp2.detach())).sum(-1)
    kl21 = (lp2.exp() * (lp2 - lp1.detach())).sum(-1)
    consistency = (0.5 * (kl12 + kl21)).mean()
    return ce, consistency, ce + lam * consistency


def save_fixture(out_dir, config, experts, ids, labels, seeds, lam, l1, l2, lavg, ce, consistency, total):
    """adapter/ (config + every expert) and io.safetensors with the batch, both routed passes,
    the averaged logits, the losses and every expert's gradient."""
    os.makedirs(os.path.join(out_dir, "adapter"), exist_ok=True)
    with open(os.path.join(out_dir, "adapter", "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    safetensors_io.save(os.path.join(out_dir, "adapter", "adapter_model.safetensors"),
                        {n: t.detach() for n, t in experts.items()}, {"format": "pt"})
    out = {"input_ids": ids, "labels": labels,
           "routing_seeds": torch.tensor(seeds, dtype=torch.int64),
           "lambda": torch.tensor(lam, dtype=torch.float32),
           "logits_routed": l1.detach(), "loss_routed": ce.detach(),
           "logits_routed2": l2.detach(),
           "logits_avg": lavg, "consistency": consistency.detach(), "loss_total": total.detach()}
    for n, t in experts.items():
        out["grad." + n] = t.grad if t.grad is not None else torch.zeros_like(t)
    safetensors_io.save(os.path.join(out_dir, "io.safetensors"), out, {"format": "pt"})


def main():
    torch.manual_seed(0)
    cfg, W, ids, labels = load_batch()
    scaling = ALPHA / R

    # Experts, module by module (layer, then q before v), A copies then B copies.
    g = torch.Generator().manual_seed(2024)
    experts = {}
    modules = []
    for l in range(cfg["num_hidden_layers"]):
        for name in TARGETS:
            w = W[f"model.layers.{l}.self_attn.{name}.weight"]
            out, inn = w.shape
            prefix = f"base_model.model.model.layers.{l}.self_attn.{name}"
            for i in range(E):
                experts[f"{prefix}.lora_A.{i}.weight"] = (torch.randn(R, inn, generator=g) * 0.3).requires_grad_()
            for i in range(E):
                experts[f"{prefix}.lora_B.{i}.weight"] = (torch.randn(out, R, generator=g) * 0.3).requires_grad_()
            modules.append((l, name, prefix))
    index = {(l, n): i for i, (l, n, _) in enumerate(modules)}

    def routed(seed):
        def delta(l, name, x):
            m = index[(l, name)]
            prefix = modules[m][2]
            A = experts[f"{prefix}.lora_A.{route(seed, m, 0, E)}.weight"]
            B = experts[f"{prefix}.lora_B.{route(seed, m, 1, E)}.weight"]
            return F.linear(F.linear(x, A), B) * scaling
        return delta

    def averaged(l, name, x):
        prefix = modules[index[(l, name)]][2]
        A = torch.stack([experts[f"{prefix}.lora_A.{i}.weight"] for i in range(E)]).mean(0)
        B = torch.stack([experts[f"{prefix}.lora_B.{i}.weight"] for i in range(E)]).mean(0)
        return F.linear(F.linear(x, A), B) * scaling

    l1 = forward(cfg, W, ids, routed(SEEDS[0]))
    l2 = forward(cfg, W, ids, routed(SEEDS[1]))
    ce, consistency, total = consistency_loss(l1, l2, labels, LAMBDA)
    total.backward()
    with torch.no_grad():
        lavg = forward(cfg, W, ids, averaged)
    routes = {s: [(route(s, m, 0, E), route(s, m, 1, E)) for m in range(len(modules))] for s in SEEDS}
    print("routes", routes)

    config = {"peft_type": "ADAMIX", "task_type": "CAUSAL_LM", "base": "lora", "num_experts": E,
              "share_up": False, "share_down": False, "r": R, "lora_alpha": ALPHA, "lora_dropout": 0.0,
              "consistency_weight": LAMBDA, "target_modules": list(TARGETS),
              "base_model_name_or_path": "../../shared/fixtures/llama/model"}
    save_fixture(OUT, config, experts, ids, labels, SEEDS, LAMBDA, l1, l2, lavg, ce, consistency, total)
    print(f"loss_routed {ce.item():.6f} consistency {consistency.item():.6f} total {total.item():.6f}")


if __name__ == "__main__":
    main()
