"""A random-weight LLaMA-family GGUF file of a real model's shape, for benchmarks that need a file
both peft.cpp and llama.cpp load (written with llama.cpp's own gguf-py).

  PYTHONPATH=$CLIENTS/llama.cpp/gguf-py /usr/bin/python3 bench/baselines/random_gguf.py \
      --shape llama3.2-1b --type F16 --out /tmp/l1b-f16.gguf

--type F16: N(0, 0.02) weights (quantize it with llama.cpp's quantizer: quantize_gguf.py).
--type Q4_K: random Q4_K blocks with small scales for every matrix and a Q6_K output (the layout
of a Q4_K_M file without writing the f16 model first: an 8B file in seconds).
The vocabulary is SentencePiece-style: <unk>, <s>, </s>, the 256 byte tokens, then "t{i}".
"""
import argparse

import numpy as np
import gguf

SHAPES = {  # hidden, layers, heads, kv heads, ffn, vocab, tied (the models' config.json)
    "llama3.2-1b": (2048, 16, 32, 8, 8192, 128256, True),
    "llama3.1-8b": (4096, 32, 32, 8, 14336, 128256, False),
}
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
    ap.add_argument("--shape", required=True, choices=sorted(SHAPES))
    ap.add_argument("--type", default="F16", choices=["F16", "Q4_K"])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
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


if __name__ == "__main__":
    main()
