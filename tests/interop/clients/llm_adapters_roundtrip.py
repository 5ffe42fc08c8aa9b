"""peft.cpp's bottleneck adapters, loaded by the LLM-Adapters fork of PEFT (env.sh llm-adapters).

  python3 llm_adapters_roundtrip.py --arch llama

The fork reads adapter_model.bin only (torch.load), so this checks peft.cpp's PyTorch
checkpoint writer as much as the adapters: series (the fork's per-architecture mh/output
placement), parallel, AdapterP (Pfeiffer), learned scaling, a layer restriction (written as a
regex, since the fork ignores layers_to_transform) and AdaMix over adapters exported as its
averaged plain adapter — logits within 1e-4 of `peft logits --adapter`.

The fork wraps only torch.nn.Linear and knows series placements for bloom, gptj, llama and opt
(its TRANSFORMERS_MODELS_TO_ADAPTER_TYPE_MAPPING): GPT-2's Conv1D projections and GPT-NeoX
series adapters cannot be loaded by it whatever the file says.
"""
import argparse
import os

import torch

from common import Report, input_ids, load_hf_model, make_tiny_model, max_diff, peft, peft_logits, scratch_dir, train

BOTTLENECK = ["--method", "bottleneck", "--bottleneck-size", "8", "--non-linearity", "tanh"]
LAYER0 = {"llama": "down_proj", "bloom": "dense_4h_to_h", "opt": "fc2", "gptj": "fc_out"}


def cases(arch):
    return [
        ("series", BOTTLENECK, None),
        ("parallel", BOTTLENECK + ["--use-parallel-adapter"], None),
        ("adapterp (pfeiffer)", BOTTLENECK + ["--use-adapterp"], None),
        ("series learned scaling relu", ["--method", "bottleneck", "--bottleneck-size", "8", "--non-linearity", "relu",
                                         "--adapter-scaling", "learned"], None),
        ("series layers=1", BOTTLENECK + ["--target-modules", LAYER0[arch], "--layers-to-transform", "1"], None),
        ("adamix-bottleneck exported", ["--method", "adamix", "--adamix-base", "bottleneck", "--adamix-experts", "3",
                                        "--adamix-bottleneck-size", "8"], "bottleneck"),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", required=True)
    args = ap.parse_args()
    from peft import PeftModel

    work = scratch_dir(f"llm-adapters-{args.arch}")
    model_dir = make_tiny_model(args.arch, os.path.join(work, "model"))
    ids = input_ids()
    report = Report(f"llm-adapters fork on {args.arch}")
    base_logits = peft_logits(model_dir, ids)
    for i, (name, flags, export) in enumerate(cases(args.arch)):
        adapter = train(model_dir, os.path.join(work, f"case{i}"), flags)
        if export:
            exported = adapter + "-exported"
            peft("export", "--format", export, "--model", model_dir, "--adapter", adapter, "--out", exported)
            adapter = exported
        if not os.path.exists(os.path.join(adapter, "adapter_model.bin")):
            report.error(name, "no adapter_model.bin written")
            continue
        ours = peft_logits(model_dir, ids, adapter)
        try:
            model = PeftModel.from_pretrained(load_hf_model(model_dir), adapter).eval()
            with torch.no_grad():
                theirs = model(input_ids=ids).logits
        except Exception as e:
            report.error(name, f"{type(e).__name__}: {e}")
            continue
        report.check(name, max_diff(theirs, ours), f"(vs base {max_diff(ours, base_logits):.2f})")
    report.finish()


if __name__ == "__main__":
    main()
