"""Shared helpers of the client round-trip tests: tiny random models written by the real
transformers, peft.cpp runs, logits on both sides.

Run under ../shared/clients/python/env.sh (transformers 4.31 + a PEFT) with Debian's python3.
Environment: PEFT_BINARY (build/bin/peft), PEFT_SHARED_DIR (../shared), PEFT_TEST_TMP (a
scratch folder; default a fresh temporary one).
"""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

import torch
import safetensors.torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PEFT = os.environ.get("PEFT_BINARY", os.path.join(ROOT, "build", "bin", "peft"))
SHARED = os.environ.get("PEFT_SHARED_DIR", os.path.join(ROOT, "..", "shared"))
TOKENIZER = os.path.join(SHARED, "data", "models", "stories260K", "tok512.model")
TOLERANCE = 1e-4  # max |logit difference|, fp32

# Tiny configs in transformers 4.31's field names. Vocabulary 512 = stories260K's SentencePiece
# model, so peft.cpp can train on real text; GQA on llama, partial rotary on gpt_neox.
TINY_CONFIGS = {
    "llama": dict(model_type="llama", vocab_size=512, hidden_size=64, intermediate_size=96,
                  num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                  max_position_embeddings=128, rms_norm_eps=1e-6, tie_word_embeddings=False),
    "gpt2": dict(model_type="gpt2", vocab_size=512, n_embd=64, n_layer=2, n_head=4, n_positions=128),
    "bloom": dict(model_type="bloom", vocab_size=512, hidden_size=64, n_layer=2, n_head=4),
    "gpt_neox": dict(model_type="gpt_neox", vocab_size=512, hidden_size=64, num_hidden_layers=2,
                     num_attention_heads=4, intermediate_size=128, rotary_pct=0.5,
                     max_position_embeddings=128, use_parallel_residual=True),
    "opt": dict(model_type="opt", vocab_size=512, hidden_size=64, num_hidden_layers=2, ffn_dim=128,
                num_attention_heads=4, max_position_embeddings=128, word_embed_proj_dim=64),
    "gptj": dict(model_type="gptj", vocab_size=512, n_embd=64, n_layer=2, n_head=4, rotary_dim=8,
                 n_positions=128, tie_word_embeddings=False),
    # transformers ≥ 4.34 only (env.sh transformers-4.57):
    "qwen2": dict(model_type="qwen2", vocab_size=512, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-6,
                  tie_word_embeddings=True, use_sliding_window=False),
    "mistral": dict(model_type="mistral", vocab_size=512, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-6,
                    tie_word_embeddings=False, sliding_window=None),
    # transformers 4.57 only: per-head q/k norms, head_dim 32 != 64 / 4.
    "qwen3": dict(model_type="qwen3", vocab_size=512, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, head_dim=32, max_position_embeddings=128,
                  rms_norm_eps=1e-6, tie_word_embeddings=True),
    # transformers 4.57 only: 4 layers, so the 4th attends without RoPE (llama.cpp's fixed step).
    "smollm3": dict(model_type="smollm3", vocab_size=512, hidden_size=64, intermediate_size=96, num_hidden_layers=4,
                    num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-6,
                    tie_word_embeddings=True, pad_token_id=None),
    # transformers 4.57 only: norms on each sublayer's output, whole-projection q/k norms.
    "olmo2": dict(model_type="olmo2", vocab_size=512, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-6,
                  tie_word_embeddings=False, pad_token_id=None),
    # transformers 4.57 only: √C embeddings, (1 + w) norms, tanh-GELU, head_dim 32 (4 × 32 != 64),
    # query_pre_attn_scalar = head_dim (llama.cpp's fixed scale).
    "gemma": dict(model_type="gemma", vocab_size=512, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, head_dim=32, max_position_embeddings=128,
                  rms_norm_eps=1e-6, pad_token_id=0),
    # + sandwich norms, soft-capped scores and logits, layer 0 with a window of 8 tokens.
    "gemma2": dict(model_type="gemma2", vocab_size=512, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                   num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=128,
                   rms_norm_eps=1e-6, query_pre_attn_scalar=16, sliding_window=8, attn_logit_softcapping=5.0,
                   final_logit_softcapping=3.0, pad_token_id=0),
    # + per-head q/k norms, layer 0 sliding (pattern 2, written as llama.cpp's key) with its own RoPE
    # base, layer 1 global with linear scaling.
    "gemma3_text": dict(model_type="gemma3_text", vocab_size=512, hidden_size=64, intermediate_size=96,
                        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                        max_position_embeddings=128, rms_norm_eps=1e-6, query_pre_attn_scalar=16, sliding_window=8,
                        sliding_window_pattern=2, rope_local_base_freq=100.0,
                        rope_scaling={"rope_type": "linear", "factor": 2.0}, pad_token_id=0),
    # transformers 4.57 only: fused qkv_proj and gate_up_proj, RoPE on half of each head, LongRoPE
    # (rope_factors_short/long tensors, attn_factor): original length 512 beyond both sides' use
    # (llama.cpp picks by its 256-token context, transformers by the sequence), so both take the
    # short factors, and a factor 2048 / 512 that makes the attention factor != 1.
    "phi3": dict(model_type="phi3", vocab_size=512, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                 original_max_position_embeddings=512, partial_rotary_factor=0.5, rms_norm_eps=1e-5,
                 rope_scaling={"type": "longrope", "short_factor": [1.0, 1.3, 1.9, 2.7],
                               "long_factor": [2.0, 3.0, 4.0, 5.0]},
                 tie_word_embeddings=False, sliding_window=None, pad_token_id=0),
    # Llama 3.1's rope scaling (GGUF: the rope_freqs tensor), its wavelength bands all taken.
    "llama_rope_llama3": dict(model_type="llama", vocab_size=512, hidden_size=64, intermediate_size=96,
                              num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                              max_position_embeddings=256, rms_norm_eps=1e-5, tie_word_embeddings=False,
                              rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                            "high_freq_factor": 4.0, "original_max_position_embeddings": 32}),
}


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def scratch_dir(name):
    """PEFT_TEST_TMP when set (kept for inspection), else a temporary folder removed at exit."""
    if os.environ.get("PEFT_TEST_TMP"):
        os.makedirs(os.environ["PEFT_TEST_TMP"], exist_ok=True)
        return os.environ["PEFT_TEST_TMP"]
    base = tempfile.mkdtemp(prefix=f"peft-{name}-")
    atexit.register(shutil.rmtree, base, True)
    return base


def run(*args, expect_ok=True, input_text=None):
    """Runs a command; returns (exit code, stdout, stderr) as UTF-8 text, byte for byte (no
    newline translation: generated text may hold a lone \\r). Fails on an unexpected code."""
    p = subprocess.run([str(a) for a in args], capture_output=True,
                       input=None if input_text is None else input_text.encode())
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    if expect_ok and p.returncode != 0:
        fail(f"{' '.join(map(str, args))} exited {p.returncode}:\n{err[-3000:]}")
    return p.returncode, out, err


def peft(*args, expect_ok=True, input_text=None):
    """Runs build/bin/peft (PEFT_BINARY) with `args`; see run()."""
    return run(PEFT, *args, expect_ok=expect_ok, input_text=input_text)


def make_tiny_model(arch, out_dir, seed=0):
    """A random model written by transformers' own save_pretrained (safetensors), with the
    stories260K tokenizer beside it. Weights ~ N(0, 0.2²), norm weights 1 + N(0, 0.2²) (Gemma:
    N(0, 0.2²), its norms adding the 1), so adapters and layouts show in the logits."""
    from transformers import AutoConfig, AutoModelForCausalLM
    torch.manual_seed(seed)
    cfg = dict(TINY_CONFIGS[arch])
    config = AutoConfig.for_model(cfg.pop("model_type"), bos_token_id=1, eos_token_id=2, **cfg)
    model = AutoModelForCausalLM.from_config(config).eval()
    # Gemma's norms scale by (1 + w): its norm weights are drawn around 0 instead.
    norm_center = 0.0 if arch.startswith("gemma") else 1.0
    with torch.no_grad():
        for name, p in model.named_parameters():
            is_norm = "norm" in name or ".ln" in name or "layernorm" in name or name.startswith("ln")
            if is_norm and name.endswith("weight"):
                p.copy_(norm_center + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
    model.save_pretrained(out_dir, safe_serialization=True)
    shutil.copy(TOKENIZER, os.path.join(out_dir, "tokenizer.model"))
    # transformers' slow LlamaTokenizer (PEFT 0.6.2 loads the model's tokenizer for prompt
    # tuning's TEXT init even to run a saved adapter) reads tokenizer.model for llama folders.
    # Without the Rust `tokenizers` library (absent from the clients) 4.31 turns special tokens
    # given as strings into new ids past the vocabulary, so none are named here.
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": None, "eos_token": None, "unk_token": None, "add_bos_token": False,
                   "legacy": True}, f)
    return out_dir


def load_hf_model(model_dir):
    from transformers import AutoModelForCausalLM
    return AutoModelForCausalLM.from_pretrained(model_dir).eval()


def training_data(out_dir, n=24):
    """The first n BoolQ training records of LLM-Adapters (real instruction data)."""
    path = os.path.join(out_dir, "train.json")
    if not os.path.exists(path):
        src = os.path.join(SHARED, "data", "datasets", "llm_adapters", "dataset", "boolq", "train.json")
        with open(src) as f:
            records = json.load(f)[:n]
        with open(path, "w") as f:
            json.dump(records, f)
    return path


TRAIN_FLAGS = ["--max-steps", "3", "--batch-size", "4", "--micro-batch-size", "4",
               "--learning-rate", "2e-2", "--warmup-steps", "0", "--val-set-size", "0",
               "--cutoff-len", "48", "--save-steps", "1000",
               "--logging-steps", "1000", "--seed", "7"]


def train(model_dir, out_dir, method_flags):
    """A few optimizer steps, so every adapter tensor moves away from its (often neutral) init."""
    data = training_data(os.path.dirname(out_dir))
    peft("train", "--model", model_dir, "--data", data, "--output", out_dir, *TRAIN_FLAGS, *method_flags)
    return out_dir


def input_ids(vocab=512, batch=2, length=10, seed=123):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(3, vocab, (batch, length), generator=g, dtype=torch.int64)


def peft_logits(model_dir, ids, adapter=None, extra=()):
    """peft logits on `ids` (B, T) → torch tensor."""
    work = tempfile.mkdtemp(prefix="logits-")
    try:
        src, dst = os.path.join(work, "in.safetensors"), os.path.join(work, "out.safetensors")
        safetensors.torch.save_file({"input_ids": ids.contiguous()}, src)
        args = ["logits", "--model", model_dir, "--input", src, "--output", dst, *extra]
        if adapter:
            args += ["--adapter", adapter]
        peft(*args)
        return safetensors.torch.load_file(dst)["logits"]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def max_diff(a, b):
    if tuple(a.shape) != tuple(b.shape):
        return float("inf")
    return (a.float() - b.float()).abs().max().item()


class Report:
    """Collects one row per case; exits non-zero if any row failed."""

    def __init__(self, title):
        self.title, self.rows, self.failed = title, [], 0

    def check(self, case, diff, note="", bound=TOLERANCE):
        ok = diff <= bound
        self.failed += 0 if ok else 1
        self.rows.append((case, diff, ok, note))
        print(f"{'ok  ' if ok else 'FAIL'} {case:44s} max|Δlogit| = {diff:.2e} {note}", flush=True)

    def error(self, case, message):
        self.failed += 1
        self.rows.append((case, float("nan"), False, message))
        print(f"FAIL {case:44s} {message}", flush=True)

    def finish(self):
        print(f"{self.title}: {len(self.rows) - self.failed}/{len(self.rows)} cases pass", flush=True)
        sys.exit(1 if self.failed else 0)
