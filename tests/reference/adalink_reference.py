#!/usr/bin/env python3
"""AdaLink reference (arXiv 2310.12100) on the shared llama fixture model.

e' = e + U_m · act(D_m · e) per token, m = the token's modality; D (r, d), U (d, r).
Writes tests/fixtures/adalink/{adapter/adapter_config.json, adapter/adapter_model.safetensors,
io.safetensors}: modality ids, logits, loss (Hugging Face's shifted CE) and the gradient of
every AdaLink tensor. Run with Debian's python3 (torch 1.13): /usr/bin/python3 adalink_reference.py
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import llama_family  # noqa: E402
import safetensors_io  # noqa: E402
from common import shifted_ce  # noqa: E402

SHARED = os.path.join(HERE, "..", "..", "..", "shared", "fixtures", "llama")
OUT = os.path.join(HERE, "..", "fixtures", "adalink")
MODALITIES = ["text", "instruction"]
RANK = 3


def main():
    torch.manual_seed(20261124)
    cfg = json.load(open(os.path.join(SHARED, "model", "config.json")))
    W = safetensors_io.load(os.path.join(SHARED, "model", "model.safetensors"))[0]
    io = safetensors_io.load(os.path.join(SHARED, "io.safetensors"))[0]
    ids = io["input_ids"]
    B, T = ids.shape
    d = cfg["hidden_size"]
    # Non-trivial weights (U ≠ 0, unlike the init) so every path is exercised.
    params = {}
    for m in MODALITIES:
        params[f"adalink.{m}.down"] = (torch.rand(RANK, d) * 2 - 1) / d ** 0.5
        params[f"adalink.{m}.up"] = torch.randn(d, RANK) * 0.2
    for p in params.values():
        p.requires_grad_(True)
    modality = torch.zeros(B, T, dtype=torch.int64)
    modality[0, :5] = 1
    modality[1, 3:9] = 1

    def hook(h):
        out = []
        for mi, m in enumerate(MODALITIES):
            D, U = params[f"adalink.{m}.down"], params[f"adalink.{m}.up"]
            delta = torch.nn.functional.gelu(h @ D.t()) @ U.t()  # exact (erf) GELU
            out.append(torch.where((modality == mi)[..., None], delta, torch.zeros_like(delta)))
        return h + sum(out)

    res = llama_family.forward(cfg, W, ids, torch.ones_like(ids), embed_hook=hook)
    loss = shifted_ce(res["logits"], ids)
    loss.backward()

    os.makedirs(os.path.join(OUT, "adapter"), exist_ok=True)
    config = {"peft_type": "ADALINK", "task_type": "CAUSAL_LM", "r": RANK, "activation": "gelu",
              "modalities": MODALITIES, "token_dim": d, "inference_mode": True}
    with open(os.path.join(OUT, "adapter", "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    safetensors_io.save(os.path.join(OUT, "adapter", "adapter_model.safetensors"),
                        {k: v.detach() for k, v in params.items()}, {"format": "pt"})
    tensors = {"input_ids": ids, "modality": modality, "logits": res["logits"].detach(),
               "loss": loss.detach().reshape(())}
    for k, v in params.items():
        tensors["grad." + k] = v.grad.detach()
    safetensors_io.save(os.path.join(OUT, "io.safetensors"), tensors,
                        {"generator": "tests/reference/adalink_reference.py", "torch": torch.__version__})
    print("loss", float(loss))


if __name__ == "__main__":
    main()
