"""LoRA adapters between peft.cpp and llama.cpp, both ways (env.sh transformers-4.57).

  python3 llama_cpp_roundtrip.py --arch llama

On a tiny random model that transformers wrote: peft.cpp trains LoRA adapters (plain, rsLoRA
on every projection, AdaMix-LoRA), exports the base (`peft export --format gguf`) and each
adapter (`--format gguf-lora`, f32 and q8_0), and llama.cpp — the prebuilt binaries of the npm
package node-llama-cpp, F32 KV cache — runs base + adapter at scale 1.0 and 0.5. Its logits
must equal `peft logits --adapter A --adapter-scale S` and its greedy tokens `peft generate`'s.
The bound: 1e-4, or — where llama.cpp's own numerics differ from fp32 math by more (its GELU
reads an fp16 table) — 1.5 x what the unadapted base differs by, measured first.
The other way: llama.cpp's own converters (from the package's source bundle, unmodified):
convert_hf_to_gguf.py converts the base, and `peft logits --model x.gguf` must equal `peft logits
--model FOLDER`; convert_lora_to_gguf.py converts the PEFT folder, and `peft logits --adapter
x.gguf` must equal `peft logits --adapter FOLDER`. Environment: PEFT_CLIENTS_DIR (scripts/setup_clients).
"""
import argparse
import json
import os
import subprocess
import sys

import torch

from common import (Report, TOLERANCE, fail, input_ids, make_tiny_model, max_diff, peft, peft_logits,
                    run, scratch_dir, train)

CLIENTS = os.environ.get("PEFT_CLIENTS_DIR", "")
HERE = os.path.dirname(os.path.abspath(__file__))
LORA = ["--method", "lora", "--lora-r", "4", "--lora-alpha", "8", "--lora-dropout", "0.0"]
# llama.cpp's converter transposes GPT-2's Conv1D LoRAs wrongly (it swaps A and B), so its
# output for gpt2 is not a valid adapter for llama.cpp either; the other architectures convert.
# convert_hf_to_gguf.py on the tiny models: the gpt2, bloom, gpt_neox and olmo2 converters read a
# BPE vocabulary through AutoTokenizer and phi3's needs tokenizer_class, which the tiny models
# (stories260K's SentencePiece model) lack.
CONVERTER_BASE_ARCHS = {"llama", "qwen2", "mistral", "qwen3", "smollm3", "gemma", "gemma2", "gemma3_text",
                        "llama_rope_llama3"}
CONVERTER_ARCHS = {"llama", "qwen2", "mistral", "bloom", "gpt_neox", "qwen3", "smollm3", "olmo2", "gemma", "gemma2",
                   "gemma3_text", "phi3", "llama_rope_llama3"}


def llama_cpp(request, work):
    """Runs run_llama.mjs through the clients' node (≥ 20) with node-llama-cpp beside it."""
    node = os.path.join(CLIENTS, "node")
    modules = os.path.join(CLIENTS, "llama", "node_modules")
    script_dir = os.path.join(work, "node")
    os.makedirs(script_dir, exist_ok=True)
    if not os.path.exists(os.path.join(script_dir, "node_modules")):
        os.symlink(modules, os.path.join(script_dir, "node_modules"))
    script = os.path.join(script_dir, "run_llama.mjs")
    with open(os.path.join(HERE, "..", "llama_cpp", "run_llama.mjs")) as src, open(script, "w") as dst:
        dst.write(src.read())
    req = os.path.join(work, "request.json")
    with open(req, "w") as f:
        json.dump(request, f)
    p = subprocess.run([node, script, req], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"llama.cpp failed ({p.returncode}): {p.stderr[-2000:]}")
    return json.loads(p.stdout)


def converter(model_dir, adapter_dir, out):
    """llama.cpp's convert_lora_to_gguf.py on a PEFT folder."""
    return run_converter("convert_lora_to_gguf.py", ["--base", model_dir, "--outfile", out, "--outtype", "f32",
                                                     adapter_dir], out)


def run_converter(script, arguments, out):
    """One of llama.cpp's converters, run unmodified (torch 1.13 lacks two float8 names it only
    uses as dictionary keys: aliased first, as ../shared/clients/README.md says)."""
    source = os.path.join(CLIENTS, "llama.cpp")
    env = dict(os.environ)
    env["PYTHONPATH"] = env.get("PYTHONPATH", "") + os.pathsep + os.path.join(source, "gguf-py")
    shim = ("import runpy, sys, torch\n"
            "for n in ('float8_e4m3fn', 'float8_e5m2'):\n"
            "    hasattr(torch, n) or setattr(torch, n, torch.float16)\n"
            "sys.argv = sys.argv[1:]\nsys.path.insert(0, sys.argv[0].rsplit('/', 1)[0])\n"
            "runpy.run_path(sys.argv[0], run_name='__main__')\n")
    p = subprocess.run([sys.executable, "-c", shim, os.path.join(source, script)] + arguments,
                       capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{script} failed: {p.stderr[-2000:]}")
    return out


def greedy_text(model_dir, prompt_ids, generated):
    """Decodes prompt + llama.cpp's tokens with peft's tokenizer (the same detokenizer both sides)."""
    _, out, _ = peft("tokenize", "--model", model_dir, "--decode", "--json", input_text=json.dumps([prompt_ids + generated]))
    return json.loads(out)[0]


def greedy_regret(model_dir, adapter, scale, prompt_ids, generated):
    """max over steps of (peft's best logit − peft's logit of llama.cpp's token), on llama.cpp's path."""
    seq = torch.tensor([prompt_ids + generated], dtype=torch.int64)
    logits = peft_logits(model_dir, seq, adapter, extra=["--adapter-scale", str(scale)])[0]
    worst = 0.0
    for k, token in enumerate(generated):
        row = logits[len(prompt_ids) - 1 + k]
        worst = max(worst, (row.max() - row[token]).item())
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", required=True)
    args = ap.parse_args()
    if not CLIENTS or not os.path.exists(os.path.join(CLIENTS, "llama", "node_modules", "node-llama-cpp")):
        fail(f"node-llama-cpp is not installed under PEFT_CLIENTS_DIR='{CLIENTS}' (scripts/setup_clients)")

    work = scratch_dir(f"llama-cpp-{args.arch}")
    model_dir = make_tiny_model(args.arch, os.path.join(work, "model"))
    base_gguf = os.path.join(work, "base.gguf")
    peft("export", "--format", "gguf", "--model", model_dir, "--out", base_gguf)
    ids = input_ids(batch=2, length=12)
    seqs = ids.tolist()
    prompt = "Once upon a time"
    _, prompt_out, _ = peft("tokenize", "--model", model_dir, input_text=prompt + "\n")
    prompt_ids = [int(t) for t in prompt_out.split()]
    report = Report(f"llama.cpp on {args.arch}")

    # The unadapted base: llama.cpp's own distance from fp32 math sets the bound.
    base = llama_cpp({"model": base_gguf, "vocab": 512, "sequences": seqs}, work)
    base_diff = max_diff(torch.tensor(base["logits"]), peft_logits(model_dir, ids))
    bound = max(TOLERANCE, 1.5 * base_diff)
    # SiLU models agree to fp32 noise; GELU ones by what ggml's fp16 GELU table costs (~3e-3 here).
    report.check("base model (peft export --format gguf)", base_diff, f"(bound for adapters: {bound:.1e})", bound=1e-2)
    # The other way: the GGUF llama.cpp's own converter writes from the folder computes in peft
    # what it computes in llama.cpp (its semantics, e.g. Gemma 3's fixed sliding pattern when the
    # converter drops a config's own).
    if args.arch in CONVERTER_BASE_ARCHS:
        theirs = os.path.join(work, "theirs.gguf")
        try:
            run_converter("convert_hf_to_gguf.py", [model_dir, "--outfile", theirs, "--outtype", "f32"], theirs)
            ran = llama_cpp({"model": theirs, "vocab": 512, "sequences": seqs}, work)
            report.check("convert_hf_to_gguf.py's base: peft = llama.cpp",
                         max_diff(torch.tensor(ran["logits"]), peft_logits(theirs, ids)), bound=bound)
        except RuntimeError as e:
            report.error("convert_hf_to_gguf.py's base", str(e))
    # With Q8_0 weights llama.cpp quantizes the activations of each product to 8 bits too: the
    # same base stored as Q8_0 (peft reads it exactly dequantized) measures that noise.
    base_q8 = os.path.join(work, "base-q8_0.gguf")
    peft("export", "--format", "gguf", "--model", model_dir, "--out", base_q8, "--type", "q8_0")
    q8 = llama_cpp({"model": base_q8, "vocab": 512, "sequences": seqs}, work)
    q8_noise = max_diff(torch.tensor(q8["logits"]), peft_logits(base_q8, ids))
    bound_q8 = max(bound, 1.5 * q8_noise)
    report.check("base model as q8_0 (llama.cpp's activation quantization)", 0.0,
                 f"(measured {q8_noise:.1e}: bound for q8_0 adapters {bound_q8:.1e})")

    cases = [("lora q,v", LORA, None),
             ("rslora all-linear", LORA + ["--use-rslora", "--target-modules", "all-linear"], None),
             ("adamix-lora (averaged)", ["--method", "adamix", "--adamix-experts", "3", "--adamix-r", "4"], None)]
    for i, (name, flags, _) in enumerate(cases):
        adapter = train(model_dir, os.path.join(work, f"case{i}"), flags)
        for gtype in ("f32", "q8_0"):
            lora_gguf = os.path.join(work, f"case{i}-{gtype}.gguf")
            peft("export", "--format", "gguf-lora", "--model", model_dir, "--adapter", adapter, "--out", lora_gguf,
                 "--type", gtype)
            for scale in ((1.0, 0.5) if gtype == "f32" else (1.0,)):
                label = f"{name} gguf-lora {gtype} scale {scale}"
                ours = peft_logits(model_dir, ids, adapter, extra=["--adapter-scale", str(scale)])
                gguf_ours = peft_logits(model_dir, ids, lora_gguf, extra=["--adapter-scale", str(scale)])
                try:
                    got = llama_cpp({"model": base_gguf, "vocab": 512, "sequences": seqs,
                                     "adapters": [{"file": lora_gguf, "scale": scale}],
                                     "greedy": {"prompt": prompt_ids, "n": 24}}, work)
                except RuntimeError as e:
                    report.error(label, str(e))
                    continue
                # q8_0 stores the adapter rounded: peft reads the same file, llama.cpp is checked against that.
                want = ours if gtype == "f32" else gguf_ours
                report.check(label, max_diff(torch.tensor(got["logits"]), want),
                             f"(vs base {max_diff(ours, torch.tensor(base['logits'])):.2f})",
                             bound=bound if gtype == "f32" else bound_q8)
                if gtype == "f32":
                    report.check(f"{name} peft reads its gguf-lora back, scale {scale}", max_diff(gguf_ours, ours))
                # peft tokenize's line mode adds BOS as peft generate does, so both sides see prompt_ids.
                _, text, _ = peft("generate", "--model", model_dir, "--adapter", adapter, "--adapter-scale", str(scale),
                                  "--prompt", prompt, "--max-new-tokens", "24", "--temperature", "0", "--ignore-eos")
                same = greedy_text(model_dir, prompt_ids, got["generated"]) == text.rstrip("\n")
                # Where they differ, every llama.cpp choice must still be peft's argmax within the
                # bound (a near-tie that llama.cpp's own numerics can flip), checked by teacher forcing.
                worst = 0.0 if same else greedy_regret(model_dir, adapter, scale, prompt_ids, got["generated"])
                report.check(f"{label} greedy tokens", worst, "(same tokens)" if same else "(diverged at a near-tie)",
                             bound=bound if gtype == "f32" else bound_q8)
        if args.arch in CONVERTER_ARCHS and flags[1] == "lora":
            try:
                converted = converter(model_dir, adapter, os.path.join(work, f"case{i}-converted.gguf"))
            except RuntimeError as e:
                report.error(f"{name} via convert_lora_to_gguf.py", str(e))
                continue
            for scale in (1.0, 0.5):
                want = peft_logits(model_dir, ids, adapter, extra=["--adapter-scale", str(scale)])
                got = peft_logits(model_dir, ids, converted, extra=["--adapter-scale", str(scale)])
                report.check(f"{name} convert_lora_to_gguf.py -> peft, scale {scale}", max_diff(got, want))
    report.finish()


if __name__ == "__main__":
    main()
