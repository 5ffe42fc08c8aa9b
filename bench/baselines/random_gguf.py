"""A random-weight GGUF file of a real model's shape (LLaMA family, or GPT-2 124M), for benchmarks
that need a file both peft.cpp and llama.cpp load (written with llama.cpp's own gguf-py).

  PYTHONPATH=$CLIENTS/llama.cpp/gguf-py /usr/bin/python3 bench/baselines/random_gguf.py \
      --shape llama3.2-1b --type F16 --out /tmp/l1b-f16.gguf

--type F16: N(0, 0.02) weights (quantize it with llama.cpp's quantizer: quantize_gguf.py).
--type Q4_K: random Q4_K blocks with small scales for every matrix and a Q6_K output (the layout
of a Q4_K_M file without writing the f16 model first: an 8B file in seconds).
The LLaMA vocabulary is SentencePiece-style: <unk>, <s>, </s>, the 256 byte tokens, then "t{i}".
--shape gpt2-124m writes the gpt2 architecture with GPT-2's real BPE vocabulary and merges
(--gpt2-vocab: the folder of encoder.json and vocab.bpe, ../shared/data/tokenizers/gpt2).
"""
import json
import os
import argparse

import numpy as np
import gguf

SHAPES = {  # hidden, layers, heads, kv heads, ffn, vocab, tied (the models' config.json)
    "llama3.2-1b": (2048, 16, 32, 8, 8192, 128256, True),
    "llama3.1-8b": (4096, 32, 32, 8, 14336, 128256, False),
}
GPT2_SHAPES = {"gpt2-124m": (768, 12, 12, 3072, 50257, 1024)}  # hidden, layers, heads, ffn, vocab, context
Q = gguf.GGMLQuantizationType


def random_blocks(qtype, rows, cols, rng):
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(rows * cols // block, size), dtype=np.uint8)
    scale = np.full(raw.shape[0], 1e-3, dtype=np.float16).view(np.uint8).reshape(-1, 2)
    offsets = {Q.Q4_K: [0, 2], Q.Q6_K: [208]}[qtype]
    for off in offsets:
        raw[:, off:off + 2] = scale
    return raw.reshape(rows, cols // block * size)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", required=True, choices=sorted(SHAPES) + sorted(GPT2_SHAPES))
    ap.add_argument("--type", default="F16", choices=["F16", "Q4_K"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--gpt2-vocab", default=os.path.join(os.path.dirname(__file__), "../../../shared/data/tokenizers/gpt2"))
    args = ap.parse_args()
    if args.shape in GPT2_SHAPES:
        if args.type != "F16":
            ap.error("--shape gpt2-124m writes F16 only (re-type it with peft export --type)")
        return write_gpt2(args)
    C, L, H, Hkv, F, V, tied = SHAPES[args.shape]
    hd = C // H
    rng = np.random.default_rng(0)
    w = gguf.GGUFWriter(args.out, "llama")
    w.add_name(f"random {args.shape}")
    w.add_context_length(8192)
    w.add_embedding_length(C)
    w.add_block_count(L)
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_head_count_kv(Hkv)
    w.add_rope_dimension_count(hd)
    w.add_rope_freq_base(500000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(1 if args.type == "F16" else 15)
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [f"t{i}" for i in range(V - len(tokens))]
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * V)
    w.add_token_types([2, 3, 3] + [6] * 256 + [1] * (V - 259))
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)

    def matrix(name, rows, cols, qtype=None):
        if args.type == "F16":
            w.add_tensor(name, (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02).astype(np.float16))
        else:
            raw = random_blocks(qtype or Q.Q4_K, rows, cols, rng)
            w.add_tensor(name, raw, raw_shape=raw.shape, raw_dtype=qtype or Q.Q4_K)

    def norm(name):
        w.add_tensor(name, np.ones(C, dtype=np.float32))

    matrix("token_embd.weight", V, C)
    for i in range(L):
        norm(f"blk.{i}.attn_norm.weight")
        matrix(f"blk.{i}.attn_q.weight", H * hd, C)
        matrix(f"blk.{i}.attn_k.weight", Hkv * hd, C)
        matrix(f"blk.{i}.attn_v.weight", Hkv * hd, C)
        matrix(f"blk.{i}.attn_output.weight", C, H * hd)
        norm(f"blk.{i}.ffn_norm.weight")
        matrix(f"blk.{i}.ffn_gate.weight", F, C)
        matrix(f"blk.{i}.ffn_up.weight", F, C)
        matrix(f"blk.{i}.ffn_down.weight", C, F)
    norm("output_norm.weight")
    if not tied:
        matrix("output.weight", V, C, Q.Q6_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_gpt2(args):
    C, L, H, F, V, ctx = GPT2_SHAPES[args.shape]
    rng = np.random.default_rng(0)
    with open(os.path.join(args.gpt2_vocab, "encoder.json"), encoding="utf-8") as f:
        encoder = json.load(f)
    with open(os.path.join(args.gpt2_vocab, "vocab.bpe"), encoding="utf-8") as f:
        merges = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#version")]
    tokens = [t for t, _ in sorted(encoder.items(), key=lambda kv: kv[1])]
    if len(tokens) != V:
        raise SystemExit(f"{args.gpt2_vocab}/encoder.json: {len(tokens)} tokens, the shape has {V}")
    w = gguf.GGUFWriter(args.out, "gpt2")
    w.add_name(f"random {args.shape}")
    w.add_context_length(ctx)
    w.add_embedding_length(C)
    w.add_block_count(L)
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_layer_norm_eps(1e-5)
    w.add_file_type(1)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types([1] * V)
    w.add_token_merges(merges)
    w.add_bos_token_id(V - 1)
    w.add_eos_token_id(V - 1)

    def matrix(name, rows, cols):
        w.add_tensor(name, (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02).astype(np.float16))

    def vector(name, n, value):
        w.add_tensor(name, np.full(n, value, dtype=np.float32))

    matrix("token_embd.weight", V, C)
    matrix("position_embd.weight", ctx, C)
    for i in range(L):
        vector(f"blk.{i}.attn_norm.weight", C, 1.0)
        vector(f"blk.{i}.attn_norm.bias", C, 0.0)
        matrix(f"blk.{i}.attn_qkv.weight", 3 * C, C)
        vector(f"blk.{i}.attn_qkv.bias", 3 * C, 0.0)
        matrix(f"blk.{i}.attn_output.weight", C, C)
        vector(f"blk.{i}.attn_output.bias", C, 0.0)
        vector(f"blk.{i}.ffn_norm.weight", C, 1.0)
        vector(f"blk.{i}.ffn_norm.bias", C, 0.0)
        matrix(f"blk.{i}.ffn_up.weight", F, C)
        vector(f"blk.{i}.ffn_up.bias", F, 0.0)
        matrix(f"blk.{i}.ffn_down.weight", C, F)
        vector(f"blk.{i}.ffn_down.bias", C, 0.0)
    vector("output_norm.weight", C, 1.0)
    vector("output_norm.bias", C, 0.0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
