"""peft.cpp's adapters and merged models, loaded by the real Hugging Face clients.

  python3 peft_roundtrip.py --arch llama       (under env.sh peft-0.6.2 or peft-0.8.2)

For every method Hugging Face PEFT knows: peft.cpp trains a few steps on a tiny random model
that transformers wrote, `PeftModel.from_pretrained` loads the adapter folder unmodified, and
its logits must equal `peft logits --adapter` within 1e-4. Mergeable adapters are also merged
by `peft merge`, and transformers' `from_pretrained` of the merged folder must give the same
logits. The client is whichever PEFT the environment provides (PEFT_CLIENT names it).
"""
import argparse
import os

import torch

from common import Report, input_ids, load_hf_model, make_tiny_model, max_diff, peft, peft_logits, scratch_dir, train

# Per architecture: a regex over module paths and a layer, to check that target forms PEFT
# cannot take as written (all-linear or a regex together with layers_to_transform) are saved
# in a form it can.
REGEX = {"llama": r".*\.(q_proj|v_proj)", "gpt2": r".*\.c_attn", "bloom": r".*query_key_value",
         "gpt_neox": r".*query_key_value", "opt": r".*\.(q_proj|v_proj)", "gptj": r".*\.(q_proj|v_proj)"}

LORA = ["--method", "lora", "--lora-r", "4", "--lora-alpha", "8", "--lora-dropout", "0.1"]


def cases(arch):
    """(name, training flags, mergeable, export format or None)."""
    return [
        ("lora", LORA, True, None),
        ("lora rslora all-linear layers=1", LORA + ["--use-rslora", "--target-modules", "all-linear",
                                                    "--layers-to-transform", "1"], True, None),
        ("lora regex layers=0", LORA + ["--target-modules", REGEX[arch], "--layers-to-transform", "0"], True, None),
        ("lora gaussian init", LORA + ["--init-lora-weights", "gaussian"], True, None),
        ("ia3", ["--method", "ia3"], True, None),
        ("prefix", ["--method", "prefix", "--num-virtual-tokens", "4"], False, None),
        ("prefix projection", ["--method", "prefix", "--num-virtual-tokens", "4", "--prefix-projection",
                               "--encoder-hidden-size", "32"], False, None),
        ("prompt random", ["--method", "prompt", "--num-virtual-tokens", "4"], False, None),
    ] + ([
        # PEFT loads the model's tokenizer through AutoTokenizer for TEXT init; for a tiny
        # non-LLaMA model that means its architecture's own tokenizer files, which the
        # stories260K vocabulary these models use does not have.
        ("prompt text", ["--method", "prompt", "--num-virtual-tokens", "4", "--prompt-tuning-init", "TEXT",
                         "--prompt-tuning-init-text", "true or false"], False, None),
    ] if arch == "llama" else []) + [
        ("adamix-lora exported as lora", ["--method", "adamix", "--adamix-experts", "3", "--adamix-r", "4"],
         True, "peft-lora"),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", required=True)
    args = ap.parse_args()
    from peft import PeftModel
    import peft as hf_peft

    client = os.environ.get("PEFT_CLIENT", f"peft-{hf_peft.__version__}")
    work = scratch_dir(f"{client}-{args.arch}")
    model_dir = make_tiny_model(args.arch, os.path.join(work, "model"))
    ids = input_ids()
    report = Report(f"{client} on {args.arch}")
    base_logits = peft_logits(model_dir, ids)
    with torch.no_grad():
        report.check("base model (transformers)", max_diff(load_hf_model(model_dir)(input_ids=ids).logits, base_logits))

    for i, (name, flags, mergeable, export) in enumerate(cases(args.arch)):
        adapter = train(model_dir, os.path.join(work, f"case{i}"), flags)
        if export:
            exported = adapter + "-exported"
            peft("export", "--format", export, "--model", model_dir, "--adapter", adapter, "--out", exported)
            adapter = exported
        ours = peft_logits(model_dir, ids, adapter)
        try:
            model = PeftModel.from_pretrained(load_hf_model(model_dir), adapter).eval()
            with torch.no_grad():
                theirs = model(input_ids=ids).logits
        except Exception as e:  # the client refused the folder: that is the failure reported
            report.error(name, f"{type(e).__name__}: {e}")
            continue
        report.check(name, max_diff(theirs, ours), f"(vs base {max_diff(ours, base_logits):.2f})")
        if mergeable:
            merged = os.path.join(work, f"case{i}-merged")
            peft("merge", "--model", model_dir, "--adapter", adapter, "--out", merged)
            with torch.no_grad():
                merged_logits = load_hf_model(merged)(input_ids=ids).logits
            report.check(name + " merged (transformers)", max_diff(merged_logits, ours))
    report.finish()


if __name__ == "__main__":
    main()
