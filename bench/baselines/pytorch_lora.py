#!/usr/bin/env python3
"""Plain-PyTorch LoRA training baseline for `peft bench train`: same shapes, batch, method and JSON fields.

No transformers/peft needed: GPT-2 and LLaMA-style decoders are written out here (eager
attention as in transformers 4.31; Qwen3's per-head q/k norms and Gemma 2's √C embeddings,
sandwich norms, tanh-GELU and soft-caps on the LLaMA block, its 4096-token window omitted as it
is longer than the benchmarked rows), the base is frozen and randomly initialised (N(0, 0.02)),
LoRA (r=8, alpha 16, dropout 0.05 — LLM-Adapters' defaults, as `peft bench train` uses) sits on
c_attn (GPT-2) or q_proj,v_proj (LLaMA), AdamW on the LoRA parameters, gradient clipping 1.0.
  --dtype f32   : everything fp32
  --dtype bf16  : fp32 weights, forward + loss under torch.autocast("cpu", bfloat16)
"""
import argparse
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.utils.checkpoint
import torch.nn.functional as F

PRESETS = {
    "gpt2-124m": dict(arch="gpt2", C=768, L=12, H=12, Hkv=12, F=3072, V=50257, ctx=1024, tied=True, B=4, T=256),
    "smollm-135m": dict(arch="llama", C=576, L=30, H=9, Hkv=3, F=1536, V=49152, ctx=2048, tied=True, B=4, T=256),
    "tinyllama-1.1b": dict(arch="llama", C=2048, L=22, H=32, Hkv=4, F=5632, V=32000, ctx=2048, tied=False, B=4, T=256),
    "stories260k": dict(arch="llama", C=64, L=5, H=8, Hkv=4, F=172, V=512, ctx=512, tied=True, B=16, T=207),
    # The configs of `peft bench train`'s presets of the same names (src/bench/random_model.cpp).
    "llama3.2-1b": dict(arch="llama", C=2048, L=16, H=32, Hkv=8, F=8192, V=128256, ctx=4096, tied=True, B=4, T=512),
    "llama3.1-8b": dict(arch="llama", C=4096, L=32, H=32, Hkv=8, F=14336, V=128256, ctx=4096, tied=False, B=1,
                        T=512),
    "qwen3-0.6b": dict(arch="qwen3", C=1024, L=28, H=16, Hkv=8, hd=128, F=3072, V=151936, ctx=4096, tied=True, B=4,
                       T=512, qk_norm=True),
    "gemma2-2b": dict(arch="gemma2", C=2304, L=26, H=8, Hkv=4, hd=256, F=9216, V=256000, ctx=4096, tied=True, B=4,
                      T=512, gemma=True, attn_cap=50.0, final_cap=30.0),
}


class LoraLinear(nn.Module):
    """y = base(x) + B(A(dropout(x))) * alpha / r, base frozen (PEFT's LoRA Linear)."""

    def __init__(self, base, r, alpha, dropout):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.drop = nn.Dropout(dropout)
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(self.drop(x))) * self.scaling


def causal_attention(q, k, v, softcap=0.0):
    """q, k, v (B, H, T, hd): eager softmax attention with a causal mask (scores soft-capped)."""
    T, hd = q.shape[-2], q.shape[-1]
    att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)
    if softcap:
        att = torch.tanh(att / softcap) * softcap
    mask = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1)
    att = att.masked_fill(mask, torch.finfo(att.dtype).min)
    att = F.softmax(att, dim=-1)
    return torch.matmul(att, v)


class Gpt2Block(nn.Module):
    def __init__(self, p):
        super().__init__()
        C = p["C"]
        self.H = p["H"]
        self.ln_1, self.ln_2 = nn.LayerNorm(C, eps=1e-5), nn.LayerNorm(C, eps=1e-5)
        self.c_attn, self.attn_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.c_fc, self.mlp_proj = nn.Linear(C, p["F"]), nn.Linear(p["F"], C)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=-1)
        heads = lambda t: t.view(B, T, self.H, C // self.H).transpose(1, 2)
        a = causal_attention(heads(q), heads(k), heads(v)).transpose(1, 2).reshape(B, T, C)
        x = x + self.attn_proj(a)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class RMSNorm(nn.Module):
    def __init__(self, C, eps=1e-5):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(C)), eps

    def forward(self, x):
        xf = x.float()
        return self.weight * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype)


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class LlamaBlock(nn.Module):
    def __init__(self, p):
        super().__init__()
        C, H, Hkv = p["C"], p["H"], p["Hkv"]
        self.H, self.Hkv, self.hd = H, Hkv, p.get("hd", C // H)
        self.gemma, self.attn_cap = p.get("gemma", False), p.get("attn_cap", 0.0)
        self.input_layernorm, self.post_attention_layernorm = RMSNorm(C), RMSNorm(C)
        if self.gemma:  # sandwich: post_attention_layernorm is the attention's output norm
            self.pre_feedforward_layernorm, self.post_feedforward_layernorm = RMSNorm(C), RMSNorm(C)
        self.qk_norm = p.get("qk_norm", False)
        if self.qk_norm:
            self.q_norm, self.k_norm = RMSNorm(self.hd), RMSNorm(self.hd)
        self.q_proj = nn.Linear(C, H * self.hd, bias=False)
        self.k_proj = nn.Linear(C, Hkv * self.hd, bias=False)
        self.v_proj = nn.Linear(C, Hkv * self.hd, bias=False)
        self.o_proj = nn.Linear(H * self.hd, C, bias=False)
        self.gate_proj = nn.Linear(C, p["F"], bias=False)
        self.up_proj = nn.Linear(C, p["F"], bias=False)
        self.down_proj = nn.Linear(p["F"], C, bias=False)

    def forward(self, x, cos, sin):
        B, T, C = x.shape
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(B, T, self.H, self.hd)
        k = self.k_proj(h).view(B, T, self.Hkv, self.hd)
        if self.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        v = self.v_proj(h).view(B, T, self.Hkv, self.hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        rep = self.H // self.Hkv
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        a = causal_attention(q, k, v, self.attn_cap).transpose(1, 2).reshape(B, T, self.H * self.hd)
        if self.gemma:
            x = x + self.post_attention_layernorm(self.o_proj(a))
            h = self.pre_feedforward_layernorm(x)
            m = self.down_proj(F.gelu(self.gate_proj(h), approximate="tanh") * self.up_proj(h))
            return x + self.post_feedforward_layernorm(m)
        x = x + self.o_proj(a)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Decoder(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p, self.checkpoint = p, False
        self.wte = nn.Embedding(p["V"], p["C"])
        if p["arch"] == "gpt2":
            self.wpe = nn.Embedding(p["ctx"], p["C"])
            self.blocks = nn.ModuleList(Gpt2Block(p) for _ in range(p["L"]))
            self.norm = nn.LayerNorm(p["C"], eps=1e-5)
        else:
            self.blocks = nn.ModuleList(LlamaBlock(p) for _ in range(p["L"]))
            self.norm = RMSNorm(p["C"])
            hd = p.get("hd", p["C"] // p["H"])
            inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd))
            ang = torch.outer(torch.arange(p["ctx"]).float(), inv)
            emb = torch.cat((ang, ang), dim=-1)
            self.register_buffer("cos", emb.cos(), persistent=False)
            self.register_buffer("sin", emb.sin(), persistent=False)
        self.lm_head = nn.Linear(p["C"], p["V"], bias=False)
        if p["tied"]:
            self.lm_head.weight = self.wte.weight
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if getattr(m, "bias", None) is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, ids):
        T = ids.shape[1]
        x = self.wte(ids)
        if self.p.get("gemma"):
            x = x * torch.tensor(self.p["C"] ** 0.5, dtype=x.dtype)
        if self.p["arch"] == "gpt2":
            x = x + self.wpe(torch.arange(T))
            for b in self.blocks:
                x = b(x)
        else:
            cos, sin = self.cos[:T], self.sin[:T]
            for b in self.blocks:
                if self.checkpoint:
                    x = torch.utils.checkpoint.checkpoint(b, x, cos, sin, use_reentrant=False)
                else:
                    x = b(x, cos, sin)
        logits = self.lm_head(self.norm(x))
        if self.p.get("final_cap"):
            logits = torch.tanh(logits / self.p["final_cap"]) * self.p["final_cap"]
        return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).float(), ids[:, 1:].reshape(-1))


def add_lora(model, targets, r, alpha, dropout):
    for p in model.parameters():
        p.requires_grad_(False)
    for block in model.blocks:
        for name in targets:
            setattr(block, name, LoraLinear(getattr(block, name), r, alpha, dropout))
    return [p for n, p in model.named_parameters() if "lora_" in n]


def step_flops(model, n_lora, p, B, T):
    """Same formula as `peft bench train`: 4·P·N + 6·A·N + 12·L·B·H·T²·hd."""
    P = sum(m.base.weight.numel() if isinstance(m, LoraLinear) else 0 for m in model.modules())
    P += sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear) and "lora" not in str(type(m))
             and not any(m is l.base or m is l.lora_A or m is l.lora_B for l in model.modules() if isinstance(l, LoraLinear)))
    N, hd = B * T, p.get("hd", p["C"] // p["H"])
    return 4.0 * P * N + 6.0 * n_lora * N + 12.0 * p["L"] * B * p["H"] * T * T * hd, P


def blas_library():
    """The BLAS shared object this process mapped (fp32 matmuls go there), or "?"."""
    try:
        for line in open("/proc/self/maps"):
            if "blas" in line and ".so" in line:
                return line.split()[-1]
    except OSError:
        pass
    return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="gpt2-124m", choices=sorted(PRESETS))
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--seq", type=int, default=0)
    ap.add_argument("--dtype", default="f32", choices=["f32", "bf16"])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lora-r", type=int, default=8)
    ap.add_argument("--target-modules", default="")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--gradient-checkpointing", action="store_true",
                    help="recompute each block in the backward (torch.utils.checkpoint)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    p = PRESETS[args.preset]
    B, T = args.batch or p["B"], args.seq or p["T"]
    targets = args.target_modules.split(",") if args.target_modules else (
        ["c_attn"] if p["arch"] == "gpt2" else ["q_proj", "v_proj"])
    t_load = time.perf_counter()
    model = Decoder(p)
    model.checkpoint = args.gradient_checkpointing
    lora = add_lora(model, targets, args.lora_r, 16.0, 0.05)
    model.train()
    opt = torch.optim.AdamW(lora, lr=3e-4, weight_decay=0.0)
    load_s = time.perf_counter() - t_load
    n_lora = sum(x.numel() for x in lora)
    flops, P = step_flops(model, n_lora, p, B, T)

    fwd = bwd = opt_s = total = 0.0
    first = last = 0.0
    for step in range(args.warmup + args.steps):
        ids = torch.randint(0, p["V"], (B, T))
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        t1 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.dtype == "bf16"):
            loss = model(ids)
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(lora, 1.0)
        opt.step()
        t4 = time.perf_counter()
        if step == args.warmup:
            first = loss.item()
        last = loss.item()
        if step >= args.warmup:
            fwd, bwd, opt_s, total = fwd + t2 - t1, bwd + t3 - t2, opt_s + t4 - t3, total + t4 - t0
    n = args.steps
    step_s = total / n
    out = dict(bench="train", engine="pytorch", torch=torch.__version__, preset=args.preset, arch=p["arch"],
               method="lora", base_dtype=args.dtype if args.dtype == "f32" else "bf16-autocast",
               batch=B, seq=T, gradient_checkpointing=args.gradient_checkpointing, steps=n, warmup=args.warmup, threads=torch.get_num_threads(), matmul_params=P,
               trainable_params=n_lora, tokens_per_step=B * T, tokens_per_s=B * T / step_s, step_s=step_s,
               forward_s=fwd / n, backward_s=bwd / n, optimizer_s=opt_s / n,
               other_s=step_s - (fwd + bwd + opt_s) / n, flops_per_step=flops, gflops=flops / step_s / 1e9,
               peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6,
               load_s=load_s, first_loss=first, last_loss=last, blas=blas_library())
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
