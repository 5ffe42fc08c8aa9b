"""Regenerate tests/fixtures/* deterministically (fp32, CPU, seeded; no transformers needed).

usage: /usr/bin/python3 tests/reference/make_fixtures.py [--out DIR] [--check]
  --out DIR  write there instead of tests/fixtures
  --check    regenerate into a temporary directory and compare byte-for-byte with tests/fixtures

Layout per fixture (same as /work/shared/fixtures/<arch>, base forward only):
  <name>/model/config.json, <name>/model/model.safetensors (metadata {"format":"pt"}),
  <name>/io.safetensors (input_ids, attention_mask, labels, logits, loss, hidden_states.i,
  last_hidden_state), <name>/README (one line).
"""
import filecmp
import json
import os
import shutil
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bloom_family, gptj_family, llama_family, neox_family, opt_family  # noqa: E402
from common import random_batch, shifted_ce  # noqa: E402
from safetensors_io import load, save  # noqa: E402

B, T = 2, 12


def _mistral_cfg(sliding_window):
    return {
        "architectures": ["MistralForCausalLM"], "model_type": "mistral",
        "vocab_size": 160, "hidden_size": 48, "intermediate_size": 96, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_act": "silu",
        "max_position_embeddings": 64, "initializer_range": 0.2, "rms_norm_eps": 1e-05,
        "use_cache": True, "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": False,
        "rope_theta": 10000.0, "sliding_window": sliding_window, "attention_dropout": 0.0,
        "torch_dtype": "float32",
    }


FIXTURES = [
    # name, reference module, config, weight seed, batch seed, README line
    ("mistral", llama_family, _mistral_cfg(4), 20250101, 20250102,
     "mistral: MistralForCausalLM, GQA 4 heads / 2 kv heads (head_dim 12), sliding_window=4 < T=12 "
     "(key j visible to query i iff j <= i and i - j < 4), rms_norm_eps 1e-5, untied lm_head."),
    ("mistral_nowindow", llama_family, _mistral_cfg(None), 20250101, 20250102,
     "mistral_nowindow: same weights and batch as ../mistral but sliding_window=null (plain causal); "
     "logits equal mistral's for positions 0..3 and differ from position 4 on."),
    ("qwen2", llama_family, {
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
        "vocab_size": 192, "hidden_size": 48, "intermediate_size": 96, "num_hidden_layers": 2,
        "num_attention_heads": 6, "num_key_value_heads": 2, "hidden_act": "silu",
        "max_position_embeddings": 64, "initializer_range": 0.2, "rms_norm_eps": 1e-06,
        "use_cache": True, "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": True,
        "rope_theta": 1000000.0, "use_sliding_window": False, "sliding_window": 32768,
        "max_window_layers": 2, "attention_dropout": 0.0, "torch_dtype": "float32",
    }, 20250201, 20250202,
     "qwen2: Qwen2ForCausalLM, q/k/v_proj biases (no o_proj bias), GQA 6 heads / 2 kv heads "
     "(head_dim 8, group 3), rope_theta 1e6, tied embeddings (no lm_head.weight in the file)."),
    ("opt_postln", opt_family, {
        "architectures": ["OPTForCausalLM"], "model_type": "opt", "_remove_final_layer_norm": False,
        "activation_function": "relu", "attention_dropout": 0.0, "bos_token_id": 2,
        "do_layer_norm_before": False, "dropout": 0.0, "enable_bias": True, "eos_token_id": 2,
        "ffn_dim": 96, "hidden_size": 48, "init_std": 0.2, "layer_norm_elementwise_affine": True,
        "layerdrop": 0.0, "max_position_embeddings": 64, "num_attention_heads": 4,
        "num_hidden_layers": 2, "pad_token_id": 1, "use_cache": True, "vocab_size": 192,
        "word_embed_proj_dim": 32, "torch_dtype": "float32",
    }, 20250301, 20250302,
     "opt_postln: OPT-350m-style post-LN (do_layer_norm_before=false, no decoder final_layer_norm) with "
     "word_embed_proj_dim 32 < hidden 48 (project_in before adding positions, project_out at the end; "
     "hidden_states.2/last_hidden_state are after project_out, width 32); tied [V,32] head."),
    ("bloom_6heads", bloom_family, {
        "architectures": ["BloomForCausalLM"], "model_type": "bloom",
        "apply_residual_connection_post_layernorm": False, "attention_dropout": 0.0,
        "bos_token_id": 1, "eos_token_id": 2, "hidden_dropout": 0.0, "hidden_size": 48,
        "initializer_range": 0.2, "layer_norm_epsilon": 1e-05, "n_head": 6, "n_layer": 2,
        "pretraining_tp": 1, "slow_but_exact": False, "use_cache": True, "vocab_size": 160,
        "torch_dtype": "float32",
    }, 20250401, 20250402,
     "bloom_6heads: BLOOM with n_head=6 (not a power of two): ALiBi slopes "
     "2^-2, 2^-4, 2^-6, 2^-8, then 2^-1, 2^-3 (HF build_alibi_tensor), head_dim 8, hidden 48."),
    ("gpt_neox_seq", neox_family, {
        "architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox",
        "attention_dropout": 0.0, "bos_token_id": 0, "classifier_dropout": 0.1, "eos_token_id": 2,
        "hidden_act": "gelu", "hidden_dropout": 0.0, "hidden_size": 48, "initializer_range": 0.2,
        "intermediate_size": 64, "layer_norm_eps": 1e-05, "max_position_embeddings": 64,
        "num_attention_heads": 4, "num_hidden_layers": 3, "rope_scaling": None,
        "rotary_emb_base": 10000, "rotary_pct": 0.5, "tie_word_embeddings": False,
        "use_cache": True, "use_parallel_residual": False, "vocab_size": 160,
        "torch_dtype": "float32",
    }, 20250501, 20250502,
     "gpt_neox_seq: GPT-NeoX with use_parallel_residual=false (a = h + attn(ln1 h); h = a + mlp(ln2 a)), "
     "rotary_pct 0.5 (head_dim 12 -> RoPE on the first 6 dims, rotate_half pairs (i, i+3)), 3 layers."),
    ("gptj_full_rotary", gptj_family, {
        "architectures": ["GPTJForCausalLM"], "model_type": "gptj",
        "activation_function": "gelu_new", "attn_pdrop": 0.0, "bos_token_id": 1,
        "embd_pdrop": 0.0, "eos_token_id": 2, "initializer_range": 0.2,
        "layer_norm_epsilon": 1e-05, "n_embd": 48, "n_head": 4, "n_inner": 96, "n_layer": 2,
        "n_positions": 64, "resid_pdrop": 0.0, "rotary_dim": 12, "tie_word_embeddings": False,
        "use_cache": True, "vocab_size": 160, "torch_dtype": "float32",
    }, 20250601, 20250602,
     "gptj_full_rotary: GPT-J with rotary_dim = head_dim = 12 (rotate_every_two over the whole head, "
     "nothing passed through), parallel block with one ln_1, lm_head with bias."),
]


def _num_layers(cfg):
    return cfg.get("num_hidden_layers") or cfg.get("n_layer")


def generate(out_root):
    torch.set_num_threads(1)  # fixed reduction order
    summary = {}
    for name, mod, cfg, wseed, bseed, readme in FIXTURES:
        d = os.path.join(out_root, name)
        os.makedirs(os.path.join(d, "model"), exist_ok=True)
        W = mod.init_weights(cfg, wseed)
        with open(os.path.join(d, "model", "config.json"), "w") as f:
            f.write(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
        save(os.path.join(d, "model", "model.safetensors"), W, {"format": "pt"})
        ids, mask = random_batch(bseed, cfg["vocab_size"], B, T)
        with torch.no_grad():
            out = mod.forward(cfg, W, ids, mask)
            loss = shifted_ce(out["logits"], ids)
        assert len(out["hidden_states"]) == _num_layers(cfg) + 1
        io = {"input_ids": ids, "attention_mask": mask, "labels": ids.clone(),
              "logits": out["logits"], "loss": loss.reshape(()),
              "last_hidden_state": out["last_hidden_state"]}
        for i, h in enumerate(out["hidden_states"]):
            io[f"hidden_states.{i}"] = h
        save(os.path.join(d, "io.safetensors"), io, {
            "arch": cfg["model_type"], "fixture": name, "kind": "base",
            "generator": "tests/reference/make_fixtures.py", "reference": mod.__name__ + ".py",
            "torch": torch.__version__, "seed": str(wseed), "batch_seed": str(bseed)})
        with open(os.path.join(d, "README"), "w") as f:
            f.write(readme + "\n")
        summary[name] = round(float(loss), 6)
    with open(os.path.join(out_root, "summary.json"), "w") as f:
        f.write(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def self_check(root):
    """Reload what was written and re-run: the files must reproduce themselves exactly, and the
    mistral / mistral_nowindow pair must agree before the window bites and differ after."""
    for name, mod, _, _, _, _ in FIXTURES:
        d = os.path.join(root, name)
        cfg = json.load(open(os.path.join(d, "model", "config.json")))
        W, meta = load(os.path.join(d, "model", "model.safetensors"))
        assert meta == {"format": "pt"}
        io, _ = load(os.path.join(d, "io.safetensors"))
        with torch.no_grad():
            out = mod.forward(cfg, W, io["input_ids"], io["attention_mask"])
        assert torch.equal(out["logits"], io["logits"]), name
        for f in (os.path.join(d, "model", "model.safetensors"), os.path.join(d, "io.safetensors")):
            assert os.path.getsize(f) < 300 * 1024, (f, os.path.getsize(f))
    a, _ = load(os.path.join(root, "mistral", "io.safetensors"))
    b, _ = load(os.path.join(root, "mistral_nowindow", "io.safetensors"))
    W = json.load(open(os.path.join(root, "mistral", "model", "config.json")))["sliding_window"]
    assert torch.equal(a["logits"][:, :W], b["logits"][:, :W])
    assert (a["logits"][:, W:] - b["logits"][:, W:]).abs().amax(dim=(0, 2)).min() > 1e-3


def main():
    args = sys.argv[1:]
    default = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "fixtures")
    if "--check" in args:
        tmp = tempfile.mkdtemp()
        try:
            generate(tmp)
            bad = []
            for dirpath, _, files in os.walk(tmp):
                for fn in files:
                    p = os.path.join(dirpath, fn)
                    q = os.path.join(default, os.path.relpath(p, tmp))
                    if not os.path.exists(q) or not filecmp.cmp(p, q, shallow=False):
                        bad.append(os.path.relpath(p, tmp))
            print("byte-identical" if not bad else "DIFFER: " + ", ".join(bad))
            sys.exit(1 if bad else 0)
        finally:
            shutil.rmtree(tmp)
    out = args[args.index("--out") + 1] if "--out" in args else default
    print(json.dumps(generate(out), indent=1))
    self_check(out)
    print("self-check ok:", out)


if __name__ == "__main__":
    main()
