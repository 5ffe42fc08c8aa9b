"""Cross-check the reference modules against the transformers-4.31-generated shared fixtures.

usage: /usr/bin/python3 tests/reference/crosscheck.py [/work/shared/fixtures]
For each shared arch it loads model/config.json + model.safetensors, runs our forward on
io.safetensors' input_ids and prints max |diff| of logits / every hidden state / loss.
llama is run through the *mistral* code path (model_type forced to "mistral", sliding_window
None), i.e. exactly the code that produced the mistral fixtures minus the window.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bloom_family, gptj_family, llama_family, neox_family, opt_family  # noqa: E402
from common import shifted_ce  # noqa: E402
from safetensors_io import load  # noqa: E402

MODULES = {"llama": llama_family, "mistral": llama_family, "qwen2": llama_family, "opt": opt_family,
           "bloom": bloom_family, "gpt_neox": neox_family, "gptj": gptj_family}


def check_dir(d, override=None):
    cfg = json.load(open(os.path.join(d, "model", "config.json")))
    if override:
        cfg.update(override)
    W, _ = load(os.path.join(d, "model", "model.safetensors"))
    io, _ = load(os.path.join(d, "io.safetensors"))
    out = MODULES[cfg["model_type"]].forward(cfg, W, io["input_ids"], io["attention_mask"])
    errs = {"logits": (out["logits"] - io["logits"]).abs().max().item(),
            "loss": abs(shifted_ce(out["logits"], io["labels"]).item() - io["loss"].item()),
            "last_hidden_state": (out["last_hidden_state"] - io["last_hidden_state"]).abs().max().item()}
    n = sum(1 for k in io if k.startswith("hidden_states."))
    assert n == len(out["hidden_states"]), (n, len(out["hidden_states"]))
    errs["hidden_states(max over i)"] = max((out["hidden_states"][i] - io[f"hidden_states.{i}"]).abs().max().item()
                                            for i in range(n))
    errs["_scale"] = max(1.0, max(io[f"hidden_states.{i}"].abs().max().item() for i in range(n)))
    return errs


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/fixtures"
    worst, ok = 0.0, True
    for arch, override in [("llama", {"model_type": "mistral", "sliding_window": None}),
                           ("opt", None), ("bloom", None), ("gpt_neox", None), ("gptj", None)]:
        e = check_dir(os.path.join(root, arch), override)
        scale = e.pop("_scale")
        worst = max(worst, max(e.values()))
        # logits/loss: 1e-5 absolute; hidden states: 1e-5 relative to their magnitude (up to ~20)
        ok &= e["logits"] <= 1e-5 and e["loss"] <= 1e-5 and e["hidden_states(max over i)"] <= 1e-5 * scale
        print(f"{arch:9s}" + ("(mistral path)" if override else "") + "  " +
              "  ".join(f"{k}={v:.3g}" for k, v in e.items()))
    print("worst abs", worst, "->", "OK" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
