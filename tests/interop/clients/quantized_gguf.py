"""Quantized GGUF bases against llama.cpp's own code (env.sh transformers-4.57).

  python3 quantized_gguf.py [--part blocks|files|adapter|all]

blocks:  random blocks of every quantized type peft reads (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K…Q6_K,
         IQ4_NL, IQ4_XS), with extreme f16 scales (±65504, the smallest normal and subnormal, ±0),
         written with gguf-py; `peft inspect --dequantize` must equal gguf-py's reference
         dequantization (gguf/quants.py) bit for bit, and a NaN/inf scale must be refused by name.
files:   a random llama whose rows are multiples of 256, quantized by llama.cpp's own quantizer
         (llama_model_quantize in node-llama-cpp's prebuilt libllama, through ctypes) to Q4_K_M,
         Q5_K_M, Q3_K_M, Q2_K, Q6_K, IQ4_XS, IQ4_NL, Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0: every tensor
         of every file, decoded by peft, equals gguf-py's decoding bit for bit.
adapter: LoRA trained by peft on the Q4_K_M file: llama.cpp applies its GGUF LoRA to the same
         Q4_K_M file and agrees with `peft logits` within 1.5x what llama.cpp's activation
         quantization costs on the unadapted file (measured first); the PEFT folder loads on the
         F16 base and on the Hugging Face folder.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import torch

from common import Report, TINY_CONFIGS, fail, input_ids, make_tiny_model, max_diff, peft, peft_logits, scratch_dir, \
    train
from llama_cpp_roundtrip import greedy_regret, greedy_text, llama_cpp
from llama_quantize import FTYPES, llama_quantize

CLIENTS = os.environ.get("PEFT_CLIENTS_DIR", "")
sys.path.insert(0, os.path.join(CLIENTS, "llama.cpp", "gguf-py"))
import gguf  # noqa: E402  (llama.cpp's gguf-py, from the clients' source bundle)
from gguf import quants  # noqa: E402

Q = gguf.GGMLQuantizationType
# Byte offsets of each block's f16 scales (ggml-common.h's block structs).
SCALES = {Q.Q8_0: [0], Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2], Q.Q2_K: [80, 82], Q.Q3_K: [108],
          Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208], Q.IQ4_NL: [0], Q.IQ4_XS: [0]}
EXTREME = np.array([65504.0, -65504.0, 6.103515625e-05, 5.960464477539063e-08, 0.0, -0.0, 1.0, -3.5],
                   dtype=np.float16)
TINY_CONFIGS["llama256"] = dict(model_type="llama", vocab_size=512, hidden_size=256, intermediate_size=512,
                                num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                max_position_embeddings=256)


def random_blocks(qtype, rows, blocks_per_row, rng):
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(rows * blocks_per_row, size), dtype=np.uint8)
    for k, off in enumerate(SCALES[qtype]):
        # Every other block an extreme scale, the rest ordinary ones (never NaN/inf: refused).
        ordinary = (rng.standard_normal(rows * blocks_per_row) * 0.05).astype(np.float16)
        extreme = EXTREME[(np.arange(rows * blocks_per_row) + 3 * k) % len(EXTREME)]
        scale = np.where(np.arange(rows * blocks_per_row) % 2 == 0, extreme, ordinary).astype(np.float16)
        raw[:, off:off + 2] = scale.view(np.uint8).reshape(-1, 2)
    return raw.reshape(rows, blocks_per_row * size), block * blocks_per_row


def compare_decoding(report, label, quantized, work):
    """peft's F32 decoding of every tensor of `quantized` against gguf-py's, bit for bit."""
    out = os.path.join(work, os.path.basename(quantized) + ".f32.gguf")
    peft("inspect", quantized, "--dequantize", out)
    ours = {t.name: t for t in gguf.GGUFReader(out).tensors}
    worst, types = 0, set()
    for t in gguf.GGUFReader(quantized).tensors:
        want = quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1)
        got = np.asarray(ours[t.name].data, dtype=np.float32).reshape(-1)
        if want.shape != got.shape:
            report.error(f"{label} {t.name}", f"shape {got.shape} vs gguf-py {want.shape}")
            continue
        bad = int(np.count_nonzero(want.view(np.uint32) != got.view(np.uint32)))
        worst = max(worst, bad)
        types.add(t.tensor_type.name)
    report.check(f"{label}: elements that differ from gguf-py ({', '.join(sorted(types))})", float(worst), bound=0.0)


def part_blocks(report, work):
    rng = np.random.default_rng(0)
    path = os.path.join(work, "blocks.gguf")
    w = gguf.GGUFWriter(path, "llama")
    for qtype in SCALES:
        raw, cols = random_blocks(qtype, 4, 16 if gguf.GGML_QUANT_SIZES[qtype][0] == 32 else 4, rng)
        w.add_tensor(f"t.{qtype.name}", raw, raw_shape=raw.shape, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    compare_decoding(report, "random blocks, extreme scales", path, work)
    # A damaged scale: block 5 of a Q4_K tensor holds +inf.
    bad = os.path.join(work, "bad-scale.gguf")
    raw, _ = random_blocks(Q.Q4_K, 2, 4, rng)
    raw = raw.reshape(8, -1)
    raw[5, 0:2] = np.array([np.inf], dtype=np.float16).view(np.uint8)
    w = gguf.GGUFWriter(bad, "llama")
    w.add_tensor("t.damaged", raw.reshape(2, -1), raw_shape=(2, raw.size // 2), raw_dtype=Q.Q4_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    code, _, err = peft("inspect", bad, "--dequantize", os.path.join(work, "bad.f32.gguf"), expect_ok=False)
    named = code != 0 and "t.damaged" in err and "block 5" in err and not os.path.exists(
        os.path.join(work, "bad.f32.gguf"))
    report.check("a NaN/inf scale is refused naming the tensor and block, nothing written", 0.0 if named else 1.0,
                 err.strip().splitlines()[-1] if err.strip() else "", bound=0.0)


def base_files(work):
    model_dir = os.path.join(work, "model")
    if not os.path.exists(os.path.join(model_dir, "config.json")):
        make_tiny_model("llama256", model_dir)
    f32 = os.path.join(work, "base-f32.gguf")
    if not os.path.exists(f32):
        peft("export", "--format", "gguf", "--model", model_dir, "--out", f32)
    return model_dir, f32


def quantized_file(work, f32, ftype):
    out = os.path.join(work, f"base-{ftype}.gguf")
    if not os.path.exists(out):
        llama_quantize(f32, out, ftype)
    return out


def part_files(report, work):
    model_dir, f32 = base_files(work)
    # peft's Q8_0 and Q4_0 writers are ggml's reference quantizers: the same bytes as gguf-py's.
    floats = {t.name: np.asarray(t.data, dtype=np.float32) for t in gguf.GGUFReader(f32).tensors}
    for qtype in (Q.Q8_0, Q.Q4_0):
        ours = os.path.join(work, f"peft-{qtype.name}.gguf")
        peft("export", "--format", "gguf", "--model", model_dir, "--out", ours, "--type", qtype.name.lower())
        differ = 0
        for t in gguf.GGUFReader(ours).tensors:
            if t.tensor_type == qtype:
                want = quants.quantize(floats[t.name], qtype)
                differ += int(np.count_nonzero(np.asarray(t.data).reshape(-1) != want.reshape(-1)))
        report.check(f"peft's {qtype.name} writer vs gguf-py's quantizer: bytes that differ", float(differ), bound=0.0)
    for ftype in FTYPES:
        try:
            compare_decoding(report, f"llama.cpp's {ftype} file", quantized_file(work, f32, ftype), work)
        except RuntimeError as e:
            report.error(f"llama.cpp's {ftype} file", str(e))


def part_adapter(report, work):
    model_dir, f32 = base_files(work)
    q4km = quantized_file(work, f32, "Q4_K_M")
    ids = input_ids(batch=2, length=12)
    seqs = ids.tolist()
    # The same weights both sides: llama.cpp on the file's exact decoding (F32, so no activation
    # quantization) against peft on the Q4_K_M file (peft multiplies the decoded weights in bf16,
    # as a bf16 base: its own rounding measured against peft on the F32 decoding).
    decoded = os.path.join(work, "base-Q4_K_M.f32.gguf")
    peft("inspect", q4km, "--dequantize", decoded)
    exact = peft_logits(decoded, ids)
    on_decoded = llama_cpp({"model": decoded, "vocab": 512, "sequences": seqs}, work)
    report.check("llama.cpp vs peft on the Q4_K_M file's F32 decoding", max_diff(torch.tensor(on_decoded["logits"]),
                                                                                  exact), bound=1e-3)
    ours_base = peft_logits(q4km, ids)
    report.check("peft on Q4_K_M (bf16 products) vs on its F32 decoding", 0.0,
                 f"({max_diff(ours_base, exact):.2e}; peft --base-dtype bf16 on the decoding: "
                 f"{max_diff(peft_logits(decoded, ids, extra=['--base-dtype', 'bf16']), exact):.2e})")
    # llama.cpp quantizes activations to 8 bits for its quantized products: its distance from
    # peft on the unadapted Q4_K_M file is the bound's measure.
    base = llama_cpp({"model": q4km, "vocab": 512, "sequences": seqs}, work)
    noise = max_diff(torch.tensor(base["logits"]), ours_base)
    bound = 1.5 * noise
    report.check("unadapted Q4_K_M: llama.cpp vs peft (activation quantization)", 0.0,
                 f"(measured {noise:.2e}, logits' std {ours_base.std().item():.2f}: bound for the adapter {bound:.2e})")
    adapter = train(q4km, os.path.join(work, "lora-q4km"), ["--method", "lora", "--lora-r", "4", "--lora-alpha",
                                                            "8", "--lora-dropout", "0.0"])
    lora_gguf = os.path.join(work, "lora-q4km.gguf")
    peft("export", "--format", "gguf-lora", "--model", q4km, "--adapter", adapter, "--out", lora_gguf)
    ours = peft_logits(q4km, ids, adapter)
    report.check("the adapter moves the logits (vs base)", 0.0,
                 f"({max_diff(ours, torch.tensor(base['logits'])):.2f})")
    prompt = "Once upon a time"
    _, prompt_out, _ = peft("tokenize", "--model", q4km, input_text=prompt + "\n")
    prompt_ids = [int(t) for t in prompt_out.split()]
    got = llama_cpp({"model": q4km, "vocab": 512, "sequences": seqs,
                     "adapters": [{"file": lora_gguf, "scale": 1.0}], "greedy": {"prompt": prompt_ids, "n": 16}}, work)
    report.check("LoRA trained on Q4_K_M, applied by llama.cpp to the same file", max_diff(
        torch.tensor(got["logits"]), ours), bound=bound)
    # Greedy tokens: peft's continuation of the same prompt on the same file; where they differ,
    # each llama.cpp choice must be peft's argmax within the bound (teacher forcing).
    _, text, _ = peft("generate", "--model", q4km, "--adapter", adapter, "--prompt", prompt, "--max-new-tokens", "16",
                      "--temperature", "0", "--ignore-eos")
    same = greedy_text(q4km, prompt_ids, got["generated"]) == text.rstrip("\n")
    worst = 0.0 if same else greedy_regret(q4km, adapter, 1.0, prompt_ids, got["generated"])
    report.check("greedy tokens", worst, "(same tokens)" if same else "(diverged at a near-tie)", bound=bound)
    # An ordinary adapter: it loads on the F16 base and on the Hugging Face folder.
    f16 = os.path.join(work, "base-f16.gguf")
    peft("export", "--format", "gguf", "--model", model_dir, "--out", f16, "--type", "f16")
    on_f16 = peft_logits(f16, ids, adapter)
    on_hf = peft_logits(model_dir, ids, adapter)
    f16_noise = max_diff(peft_logits(f16, ids), peft_logits(model_dir, ids))
    report.check("the same adapter on the F16 base vs the HF folder", max_diff(on_f16, on_hf),
                 f"(bound: 2 x the bases' own F16 rounding, {f16_noise:.2e})", bound=2 * f16_noise + 1e-4)
    report.check("on the F16 base vs on Q4_K_M (what quantization moves)", 0.0, f"({max_diff(on_f16, ours):.3f})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", default="all", choices=["blocks", "files", "adapter", "all"])
    args = ap.parse_args()
    if not CLIENTS or not os.path.exists(os.path.join(CLIENTS, "llama.cpp", "gguf-py")):
        fail(f"llama.cpp's source is not installed under PEFT_CLIENTS_DIR='{CLIENTS}' (scripts/setup_clients)")
    work = scratch_dir("quantized-gguf")
    report = Report(f"quantized GGUF ({args.part})")
    if args.part in ("blocks", "all"):
        part_blocks(report, work)
    if args.part in ("files", "all"):
        part_files(report, work)
    if args.part in ("adapter", "all"):
        part_adapter(report, work)
    report.finish()


if __name__ == "__main__":
    main()
