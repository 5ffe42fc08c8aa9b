"""Fixtures made by the real Hugging Face transformers 4.57 (../shared/clients): tiny random
models of what the plain-PyTorch references in this folder do not model (RoPE scaling of every
type, current architectures: Qwen3). Same layout as make_fixtures.py writes.

usage:  source ../shared/clients/python/env.sh transformers-4.57
        /usr/bin/python3 tests/reference/make_hf_fixtures.py [--out DIR] [--only NAME,NAME]

Weights follow the fixtures' rule (weights N(0, 0.2^2), norm weights 1 + N(0, 0.2^2), drawn in
state_dict order from one seeded generator); config.json is the full config transformers
writes (every attribute, as save_pretrained with use_diff=False would), so loading it also
proves every key there is read or neutral.
"""
import json
import os
import sys

import torch
import transformers

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import random_batch, shifted_ce  # noqa: E402
from safetensors_io import save  # noqa: E402

B, T = 2, 12


def _llama(rope_scaling, max_positions=64, **extra):
    cfg = dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
               num_attention_heads=2, num_key_value_heads=1, hidden_act="silu",
               max_position_embeddings=max_positions, rms_norm_eps=1e-5, tie_word_embeddings=False,
               rope_theta=10000.0, rope_scaling=rope_scaling, bos_token_id=1, eos_token_id=2)
    cfg.update(extra)
    return transformers.LlamaConfig(**cfg)


# head_dim 16: inverse frequencies 10000^(-i/8), wavelengths 6.3 .. 1.9e4 positions, so each
# scaling's branches are all taken at these sizes.
FIXTURES = [
    ("llama_rope_llama3", _llama({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                  "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
                                 max_positions=512),
     "Llama 3.1 rope scaling: factor 8, low/high_freq_factor 1/4, original length 64 (wavelengths "
     "below 16 kept, above 64 divided by 8, between blended)."),
    ("llama_rope_linear", _llama({"type": "linear", "factor": 2.0}),
     "linear rope scaling (legacy 'type' key), factor 2."),
    ("llama_rope_dynamic", _llama({"rope_type": "dynamic", "factor": 3.0}, max_positions=8),
     "dynamic NTK rope scaling, factor 3, max_position_embeddings 8 < T=12 (the base grows with "
     "the forward's length)."),
    ("llama_rope_yarn", _llama({"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16,
                                "beta_fast": 8.0, "beta_slow": 1.0}),
     "YaRN rope scaling, factor 4, original length 16, beta_fast 8 (attention factor 0.1 ln 4 + 1)."),
    ("llama_rope_longrope", _llama({"rope_type": "longrope", "short_factor": [1.0, 1.1, 1.3, 1.6, 2.0, 2.5, 3.1, 3.8],
                                    "long_factor": [1.0, 1.5, 2.2, 3.0, 4.0, 5.5, 7.0, 9.0],
                                    "factor": 8.0},
                                   original_max_position_embeddings=8),
     "LongRoPE (Phi-3's) on llama: original length 8 < T=12, so long_factor applies; attention "
     "factor sqrt(1 + ln(64/8)/ln 8)."),
    ("qwen3", transformers.Qwen3Config(
        vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, hidden_act="silu", max_position_embeddings=64, rms_norm_eps=1e-6,
        rope_theta=1000000.0, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2),
     "per-head RMSNorm on q and k before RoPE (q_norm, k_norm), head_dim 16 != hidden 32 / 4 heads, "
     "GQA 4/2, no biases, tied embeddings, rope_theta 1e6."),
    ("smollm3", transformers.SmolLM3Config(
        vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=4, num_attention_heads=2,
        num_key_value_heads=1, hidden_act="silu", max_position_embeddings=64, rms_norm_eps=1e-6,
        rope_theta=10000.0, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=None),
     "no RoPE on every 4th layer (no_rope_layers [1, 1, 1, 0]), GQA 2/1, tied embeddings."),
    ("olmo2", transformers.Olmo2Config(
        vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, hidden_act="silu", max_position_embeddings=64, rms_norm_eps=1e-6,
        rope_theta=500000.0, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, pad_token_id=None),
     "norms on each sublayer's output (post_attention_layernorm, post_feedforward_layernorm), RMSNorm over "
     "the whole q and k projections, GQA 4/2, untied head."),
    ("gemma", transformers.GemmaConfig(
        vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, hidden_act="gelu_pytorch_tanh", max_position_embeddings=64,
        rms_norm_eps=1e-6, rope_theta=10000.0, bos_token_id=2, eos_token_id=1, pad_token_id=0),
     "embeddings times sqrt(32), RMSNorm scaling by (1 + w) (norm weights drawn around 0), tanh-GELU gated MLP, "
     "head_dim 16 != 32 / 4 heads, GQA 4/2, tied head."),
    ("gemma2", transformers.Gemma2Config(
        vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=4, num_attention_heads=2,
        num_key_value_heads=1, head_dim=16, hidden_activation="gelu_pytorch_tanh", max_position_embeddings=64,
        rms_norm_eps=1e-6, rope_theta=10000.0, query_pre_attn_scalar=16, sliding_window=4,
        attn_logit_softcapping=1.5, final_logit_softcapping=2.5, bos_token_id=2, eos_token_id=1, pad_token_id=0),
     "sandwich norms, attention scores soft-capped at 1.5 and logits at 2.5 (both bend at these scales), "
     "sliding window 4 on layers 0 and 2 (T=12), query_pre_attn_scalar = head_dim 16 (llama.cpp's scale)."),
    ("gemma2_scalar", transformers.Gemma2Config(
        vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=2, head_dim=16, hidden_activation="gelu_pytorch_tanh", max_position_embeddings=64,
        rms_norm_eps=1e-6, rope_theta=10000.0, query_pre_attn_scalar=40, sliding_window=3,
        attn_logit_softcapping=None, final_logit_softcapping=None, bos_token_id=2, eos_token_id=1, pad_token_id=0),
     "query_pre_attn_scalar 40 != head_dim 16 (scores scaled by 40^-1/2), both soft-caps off (null), window 3."),
    ("gemma3_text", transformers.Gemma3TextConfig(
        vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, hidden_activation="gelu_pytorch_tanh", max_position_embeddings=64,
        rms_norm_eps=1e-6, rope_theta=1000000.0, rope_local_base_freq=100.0, query_pre_attn_scalar=16,
        sliding_window=5, sliding_window_pattern=2, rope_scaling={"rope_type": "linear", "factor": 4.0},
        final_logit_softcapping=None, attn_logit_softcapping=None, bos_token_id=2, eos_token_id=1, pad_token_id=0),
     "per-head (1 + w) q/k norms, sandwich norms, sliding window 5 on layers 0 and 2 (pattern 2) whose RoPE base "
     "is rope_local_base_freq 100 unscaled, global layers base 1e6 with linear scaling 4, embeddings scaled as "
     "table lookups."),
    ("phi3", transformers.Phi3Config(
        vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, hidden_act="silu", max_position_embeddings=64, original_max_position_embeddings=8,
        partial_rotary_factor=0.5, rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=False,
        rope_scaling={"type": "longrope", "short_factor": [1.0, 1.5], "long_factor": [2.0, 5.0]},
        sliding_window=None, bos_token_id=1, eos_token_id=2, pad_token_id=0),
     "fused qkv_proj (GQA 4/2) and gate_up_proj, RoPE on 4 of each head's 8 dims, LongRoPE with original "
     "length 8 < T=12 (long factors; attention factor sqrt(1 + ln 8 / ln 8))."),
    ("phi3_window", transformers.Phi3Config(
        vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=2, hidden_act="silu", max_position_embeddings=64, original_max_position_embeddings=64,
        rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=True, rope_scaling=None, sliding_window=5,
        bos_token_id=1, eos_token_id=2, pad_token_id=0),
     "a sliding window of 5 on every layer, full rotary, tied head."),
]


def init_weights(model, seed, norm_center=1.0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.state_dict().items():
            noise = torch.randn(p.shape, generator=g) * 0.2
            p.copy_(norm_center + noise if "norm" in name else noise)


def generate(out_root, only=None):
    summary = {}
    for i, (name, cfg, readme) in enumerate(FIXTURES):
        if only and name not in only:
            continue
        torch.manual_seed(0)
        model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").eval()
        # Gemma's norms scale by (1 + w): its weights are drawn around 0.
        init_weights(model, 20260101 + i, 0.0 if name.startswith("gemma") else 1.0)
        d = os.path.join(out_root, name)
        os.makedirs(os.path.join(d, "model"), exist_ok=True)
        config = json.loads(cfg.to_json_string(use_diff=False))
        with open(os.path.join(d, "model", "config.json"), "w") as f:
            f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")
        W = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()
             if not (cfg.tie_word_embeddings and k == "lm_head.weight")}
        save(os.path.join(d, "model", "model.safetensors"), W, {"format": "pt"})
        ids, mask = random_batch(20260201 + i, cfg.vocab_size, B, T)
        with torch.no_grad():
            out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        loss = shifted_ce(out.logits, ids)
        io = {"input_ids": ids, "attention_mask": mask, "labels": ids.clone(), "logits": out.logits,
              "loss": loss.reshape(()), "last_hidden_state": out.hidden_states[-1]}
        for j, h in enumerate(out.hidden_states):
            io[f"hidden_states.{j}"] = h
        save(os.path.join(d, "io.safetensors"), io,
             {"format": "pt", "made_by": f"transformers {transformers.__version__}"})
        with open(os.path.join(d, "README"), "w") as f:
            f.write(f"{name}: {type(model).__name__} (transformers {transformers.__version__}), {readme}\n")
        summary[name] = round(float(loss), 6)
    return summary


def main():
    args = sys.argv[1:]
    default = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "fixtures")
    out = args[args.index("--out") + 1] if "--out" in args else default
    only = args[args.index("--only") + 1].split(",") if "--only" in args else None
    print(json.dumps(generate(out, only), indent=1))


if __name__ == "__main__":
    main()
