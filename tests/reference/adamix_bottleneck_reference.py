"""AdaMix (arXiv 2210.17451) mixture-of-adapters reference for tests/adapters/adamix_bottleneck_test.cpp.

AdaMix's NLU recipe mixes series bottleneck adapters (microsoft/AdaMix ExpertSoup: expert =
Linear(n, b) -> act -> Linear(b, n), output + residual). Here, as peft.cpp implements it
(src/adapters/adamix/adamix_bottleneck.h), without biases: on the output y of each target
projection,  y <- y + U act(D y),  D (b, n), U (n, b).

Base: the shared llama fixture and batch, as adamix_reference.py (whose forward() this reuses
through its post-hook on the o_proj / down_proj outputs); two labels set to -100.
Module m = the m-th selected projection in layer-then-site order (o_proj before down_proj).
While training, module m uses D_k, U_j with k = route(seed, m, 0, num_down), j = route(seed, m,
1, num_up) (adamix_reference.route, the same hash as AdaMix-LoRA). Inference uses the averaged
module (mean D, mean U). Expert weights random N(0, 0.2^2) (non-identical, so routing matters).

Two fixtures under tests/fixtures/adamix_bottleneck/:
  ./          target_modules [o_proj, down_proj], num_experts 3, share_up = share_down = false,
              bottleneck_size 8, gelu (exact), consistency_weight 0.7
  shared_up/  default targets (down_proj), num_experts 3, share_up true, bottleneck_size 4,
              tanh, consistency_weight 0.5
(routing seeds chosen so the two passes pick different experts) each with
adapter/adapter_config.json + adapter/adapter_model.safetensors (the experts) and
io.safetensors: input_ids, labels, routing_seeds (I64 [2]), lambda (F32),
  logits_routed [2,12,V] + loss_routed (CE of the pass with seed 1), logits_routed2,
  consistency (½[KL(p1‖p2)+KL(p2‖p1)] mean over tokens with a target),
  loss_total = CE1 + lambda·consistency, grad.<expert name> of loss_total where KL(p1‖sg p2) and
  KL(p2‖sg p1) each carry the gradient of their first argument only, logits_avg (averaged module).
Run: /usr/bin/python3 tests/reference/adamix_bottleneck_reference.py
"""
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from adamix_reference import consistency_loss, forward, load_batch, route, save_fixture  # noqa: E402

OUT = os.path.join(HERE, "..", "fixtures", "adamix_bottleneck")
ACTS = {"gelu": F.gelu, "tanh": torch.tanh, "relu": F.relu}

CASES = [
    {"dir": "", "targets": ["o_proj", "down_proj"], "E": 3, "share_up": False, "b": 8, "act": "gelu",
     "lambda": 0.7, "seed": 2025, "routing_seeds": (12345, 987654321)},
    {"dir": "shared_up", "targets": None, "E": 3, "share_up": True, "b": 4, "act": "tanh",
     "lambda": 0.5, "seed": 2026, "routing_seeds": (31337, 424242)},
]


def run_case(case, cfg, W, ids, labels):
    SEEDS = case["routing_seeds"]
    E, b, act = case["E"], case["b"], ACTS[case["act"]]
    n_down, n_up = E, (1 if case["share_up"] else E)
    targets = case["targets"] or ["down_proj"]  # llama's default ("bottleneck_adapterp")
    sites = {"o_proj": "self_attn.o_proj", "down_proj": "mlp.down_proj"}

    # Experts, module by module (layer, then o_proj before down_proj), down copies then up.
    g = torch.Generator().manual_seed(case["seed"])
    experts = {}
    modules = []
    for l in range(cfg["num_hidden_layers"]):
        for name in ("o_proj", "down_proj"):
            if name not in targets:
                continue
            n = W[f"model.layers.{l}.{sites[name]}.weight"].shape[0]
            prefix = f"base_model.model.model.layers.{l}.{sites[name]}"
            for i in range(n_down):
                experts[f"{prefix}.adapter_down.{i}.weight"] = (torch.randn(b, n, generator=g) * 0.2).requires_grad_()
            for i in range(n_up):
                experts[f"{prefix}.adapter_up.{i}.weight"] = (torch.randn(n, b, generator=g) * 0.2).requires_grad_()
            modules.append((l, name, prefix))
    index = {(l, n): i for i, (l, n, _) in enumerate(modules)}

    def adapter(D, U, y):
        return y + F.linear(act(F.linear(y, D)), U)

    def routed(seed):
        def post(l, name, y):
            if (l, name) not in index:
                return y
            m = index[(l, name)]
            prefix = modules[m][2]
            D = experts[f"{prefix}.adapter_down.{route(seed, m, 0, n_down)}.weight"]
            U = experts[f"{prefix}.adapter_up.{route(seed, m, 1, n_up)}.weight"]
            return adapter(D, U, y)
        return post

    def averaged(l, name, y):
        if (l, name) not in index:
            return y
        prefix = modules[index[(l, name)]][2]
        D = torch.stack([experts[f"{prefix}.adapter_down.{i}.weight"] for i in range(n_down)]).mean(0)
        U = torch.stack([experts[f"{prefix}.adapter_up.{i}.weight"] for i in range(n_up)]).mean(0)
        return adapter(D, U, y)

    no_lora = lambda l, name, x: 0.0  # noqa: E731
    l1 = forward(cfg, W, ids, no_lora, routed(SEEDS[0]))
    l2 = forward(cfg, W, ids, no_lora, routed(SEEDS[1]))
    ce, consistency, total = consistency_loss(l1, l2, labels, case["lambda"])
    total.backward()
    with torch.no_grad():
        lavg = forward(cfg, W, ids, no_lora, averaged)
        lbase = forward(cfg, W, ids, no_lora)
    routes = {s: [(route(s, m, 0, n_down), route(s, m, 1, n_up)) for m in range(len(modules))] for s in SEEDS}
    print(case["dir"] or ".", "routes", routes)

    out_dir = os.path.join(OUT, case["dir"])
    config = {"peft_type": "ADAMIX", "task_type": "CAUSAL_LM", "base": "bottleneck", "num_experts": E,
              "share_up": case["share_up"], "share_down": False, "bottleneck_size": b,
              "non_linearity": case["act"], "adapter_dropout": 0.0, "consistency_weight": case["lambda"],
              "base_model_name_or_path": "../../shared/fixtures/llama/model"}
    if case["targets"]:
        config["target_modules"] = case["targets"]
    save_fixture(out_dir, config, experts, ids, labels, SEEDS, case["lambda"], l1, l2, lavg, ce, consistency, total)
    print(f"  loss_routed {ce.item():.6f} consistency {consistency.item():.6f} total {total.item():.6f} "
          f"|logits| {l1.abs().max().item():.2f} |avg - base| {(lavg - lbase).abs().max().item():.3f}")


def main():
    torch.manual_seed(0)
    cfg, W, ids, labels = load_batch()
    for case in CASES:
        run_case(case, cfg, W, ids, labels)


if __name__ == "__main__":
    main()
