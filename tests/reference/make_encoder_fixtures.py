"""Encoder fixtures made by the real Hugging Face transformers 4.31.0 + PEFT 0.6.2
(/work/shared/clients/python, pure Python on Debian's torch 1.13): BERT / RoBERTa / DeBERTa-v2
sequence- and token-classification heads with right-padded batches, and three PEFT LoRA SEQ_CLS
adapters. Writes tests/fixtures/encoders/<name>/ (layout: README.md "Encoder fixtures").

usage:  source ../shared/clients/python/env.sh peft-0.6.2
        /usr/bin/python3 tests/reference/make_encoder_fixtures.py            # write, then self-check
        /usr/bin/python3 tests/reference/make_encoder_fixtures.py --check    # regenerate to a temp dir, byte-compare
        /usr/bin/python3 tests/reference/make_encoder_fixtures.py --out DIR

Weights: every tensor of model.state_dict(), in its order, from one torch.Generator(seed):
LayerNorm weights 1 + N(0, 0.2^2), everything else (weights, biases, embeddings incl. the
padding_idx row, LayerNorm biases) N(0, 0.2^2). LoRA: lora_A ~ U(+-1/sqrt(in)), lora_B ~ N(0, 0.2^2),
modules_to_save copies of the classifier head N(0, 0.2^2), drawn in named_parameters() order.
model/ is exactly what model.save_pretrained(safe_serialization=True) writes (config.json in its
use_diff form; model.safetensors re-written with safetensors_io and asserted byte-identical).
"""
import filecmp
import json
import math
import os
import shutil
import sys
import tempfile

import torch

import peft
import transformers
from peft import LoraConfig, PeftModel, get_peft_model

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import encoder_family  # noqa: E402
from safetensors_io import load, save  # noqa: E402

B, T = 3, 12
LENGTHS = [12, 8, 5]  # row 0 full, rows 1 and 2 right-padded
SMALL = dict(vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
             intermediate_size=64, max_position_embeddings=64, hidden_act="gelu")


def _bert(**kw):
    return transformers.BertConfig(**SMALL, type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0, **kw)


FIXTURES = [
    dict(name="bert_seqcls", cls="BertForSequenceClassification", seed=20260301,
         config=_bert(num_labels=3, problem_type="single_label_classification"), labels="single",
         lora=dict(seed=20260311),
         readme="BertForSequenceClassification, 3 labels, problem_type single_label_classification "
                "(CE), sentence-pair token_type_ids, pooler tanh(dense(h[:,0])) -> classifier; "
                "lora_adapter/: LoRA r 4 alpha 8 on query/value + classifier in modules_to_save."),
    dict(name="bert_regression", cls="BertForSequenceClassification", seed=20260302,
         config=_bert(num_labels=1, problem_type="regression"), labels="regression",
         readme="BertForSequenceClassification, num_labels 1, problem_type regression "
                "(MSE of logits.squeeze() vs labels F32 [B])."),
    dict(name="bert_multilabel", cls="BertForSequenceClassification", seed=20260303,
         config=_bert(num_labels=4, problem_type="multi_label_classification"), labels="multi",
         readme="BertForSequenceClassification, 4 labels, problem_type multi_label_classification "
                "(BCEWithLogits mean over B*4, labels F32 0/1 [B,4])."),
    dict(name="bert_tokcls", cls="BertForTokenClassification", seed=20260304,
         config=_bert(num_labels=5), labels="token",
         readme="BertForTokenClassification, 5 labels, no pooler (add_pooling_layer=False: no "
                "bert.pooler.* tensors), CE over positions whose label != -100 (padding)."),
    dict(name="roberta_seqcls", cls="RobertaForSequenceClassification", seed=20260305,
         config=transformers.RobertaConfig(**SMALL, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1,
                                           bos_token_id=0, eos_token_id=2,
                                           id2label={0: "NEGATIVE", 1: "POSITIVE"},
                                           label2id={"NEGATIVE": 0, "POSITIVE": 1}),
         labels="single", lora=dict(seed=20260315),
         readme="RobertaForSequenceClassification, 2 labels (problem_type absent = null: inferred "
                "single-label CE), pad 1, position ids padding_idx + cumsum over non-pad ids, "
                "head dense -> tanh -> out_proj on h[:,0]; lora_adapter/: LoRA r 4 alpha 8 on "
                "query/value + the whole classifier head in modules_to_save."),
    dict(name="deberta_v2_seqcls", cls="DebertaV2ForSequenceClassification", seed=20260306,
         config=transformers.DebertaV2Config(
             **SMALL, type_vocab_size=0, layer_norm_eps=1e-7, pad_token_id=0, relative_attention=True,
             max_relative_positions=-1, position_buckets=16, pos_att_type=["p2c", "c2p"],
             norm_rel_ebd="layer_norm", share_att_key=True, position_biased_input=False,
             pooler_hidden_size=32, pooler_hidden_act="gelu", pooler_dropout=0, num_labels=3),
         labels="single", lora=dict(seed=20260316, targets=["query_proj", "key_proj", "value_proj"]),
         readme="DebertaV2ForSequenceClassification configured like DeBERTa-v3: relative attention "
                "c2p+p2c, share_att_key, position_buckets 16 (|i-j| 9,10 -> bucket 9, 11 -> 10), "
                "rel_embeddings [32,C] with LayerNorm, no absolute positions, no token types, "
                "ContextPooler gelu(dense(h[:,0])), 3 labels, problem_type null (DeBERTa's own "
                "path: CE over rows with label >= 0); lora_adapter/: LoRA r 4 alpha 8 on "
                "query_proj/key_proj/value_proj (PEFT's wrapped projections also project the relative "
                "embeddings) + classifier in modules_to_save."),
]


def init_weights(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.state_dict().items():
            noise = torch.randn(p.shape, generator=g) * 0.2
            p.copy_(1.0 + noise if ("LayerNorm" in name and name.endswith(".weight")) else noise)


def make_batch(fx, cfg):
    g = torch.Generator().manual_seed(fx["seed"] + 1000)
    pad = cfg.pad_token_id
    ids = torch.randint(3, cfg.vocab_size, (B, T), generator=g, dtype=torch.int64)  # no 0/1/2 specials
    mask = torch.zeros(B, T, dtype=torch.int64)
    tt = torch.zeros(B, T, dtype=torch.int64)
    for b, n in enumerate(LENGTHS):
        mask[b, :n] = 1
        ids[b, n:] = pad
        if cfg.type_vocab_size >= 2:  # sentence pair: first ceil(n/2) tokens 0, rest 1, pad 0
            tt[b, (n + 1) // 2:n] = 1
    kind, nl = fx["labels"], cfg.num_labels
    if kind == "single":
        labels = torch.randint(0, nl, (B,), generator=g, dtype=torch.int64)
    elif kind == "regression":
        labels = torch.randn(B, generator=g)
    elif kind == "multi":
        labels = (torch.rand(B, nl, generator=g) < 0.5).float()
    else:
        labels = torch.randint(0, nl, (B, T), generator=g, dtype=torch.int64).masked_fill(mask == 0, -100)
    return ids, mask, tt, labels


def _run(model, ids, mask, tt, labels):
    captured = {}
    pooler = getattr(getattr(model, "bert", None), "pooler", None) or getattr(model, "pooler", None)
    hook = pooler.register_forward_hook(lambda m, i, o: captured.update(p=o)) if pooler is not None else None
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, token_type_ids=tt, labels=labels,
                    output_hidden_states=True, return_dict=True)
    if hook is not None:
        hook.remove()
    return out, captured.get("p")


def _lora(peft_model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if ".lora_A." in name:
                p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) / math.sqrt(p.shape[1]))
            elif ".lora_B." in name or ".modules_to_save." in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.2)


def generate(out_root):
    torch.set_num_threads(1)
    lines = []
    for fx in FIXTURES:
        name = fx["name"]
        cls = getattr(transformers, fx["cls"])
        cfg = fx["config"].__class__.from_dict(fx["config"].to_dict())  # fresh copy: forward() may mutate it
        torch.manual_seed(0)
        model = cls(cfg).eval()
        init_weights(model, fx["seed"])
        d = os.path.join(out_root, name)
        mdir = os.path.join(d, "model")
        os.makedirs(mdir, exist_ok=True)
        # model/: exactly save_pretrained's output (before any forward can set problem_type).
        tmp = tempfile.mkdtemp()
        try:
            model.save_pretrained(tmp, safe_serialization=True)
            assert sorted(os.listdir(tmp)) == ["config.json", "model.safetensors"], os.listdir(tmp)
            shutil.copyfile(os.path.join(tmp, "config.json"), os.path.join(mdir, "config.json"))
            sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
            save(os.path.join(mdir, "model.safetensors"), sd, {"format": "pt"})
            assert filecmp.cmp(os.path.join(tmp, "model.safetensors"), os.path.join(mdir, "model.safetensors"),
                               shallow=False), name
        finally:
            shutil.rmtree(tmp)

        ids, mask, tt, labels = make_batch(fx, cfg)
        out, pooled = _run(model, ids, mask, tt, labels)
        io = {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt, "labels": labels,
              "logits": out.logits.contiguous(), "loss": out.loss.reshape(())}
        for j, h in enumerate(out.hidden_states):
            io[f"hidden_states.{j}"] = h.contiguous()
        if pooled is not None:
            io["pooled_output"] = pooled.contiguous()
        meta = {"format": "pt", "fixture": name, "arch": fx["cls"],
                "made_by": f"transformers {transformers.__version__} + peft {peft.__version__}",
                "generator": "tests/reference/make_encoder_fixtures.py", "torch": torch.__version__,
                "seed": str(fx["seed"]), "batch_seed": str(fx["seed"] + 1000)}
        readme = fx["readme"]

        if "lora" in fx:
            lcfg = LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, lora_dropout=0.1,
                              target_modules=fx["lora"].get("targets", ["query", "value"]))
            pm = get_peft_model(model, lcfg)
            _lora(pm, fx["lora"]["seed"])
            pm.eval()
            with torch.no_grad():
                aout = pm(input_ids=ids, attention_mask=mask, token_type_ids=tt, labels=labels,
                          output_hidden_states=True, return_dict=True)
            adir = os.path.join(d, "lora_adapter")
            pm.save_pretrained(adir, safe_serialization=True)
            os.remove(os.path.join(adir, "README.md"))  # peft's boilerplate model card
            io["adapter_logits"] = aout.logits.contiguous()
            io["adapter_loss"] = aout.loss.reshape(())
            for j, h in enumerate(aout.hidden_states):
                io[f"adapter_hidden_states.{j}"] = h.contiguous()
            meta["lora_seed"] = str(fx["lora"]["seed"])
        save(os.path.join(d, "io.safetensors"), io, meta)
        with open(os.path.join(d, "README"), "w") as f:
            f.write(f"{name}: {readme}\n")
        lines.append(f"{name}: {readme}")
    with open(os.path.join(out_root, "README"), "w") as f:
        f.write("Encoder fixtures made by transformers 4.31.0 + peft 0.6.2 "
                "(tests/reference/make_encoder_fixtures.py; see tests/reference/README.md).\n")
        for ln in lines:
            f.write(ln + "\n")


def self_check(root):
    """Reload everything from disk with the real clients and with encoder_family.py:
    from_pretrained(model/) reproduces the logits exactly; PeftModel.from_pretrained(fresh base,
    lora_adapter/) reproduces adapter_logits exactly; the plain reference matches to fp32 noise."""
    torch.set_num_threads(1)
    report = {}
    for fx in FIXTURES:
        name = fx["name"]
        d = os.path.join(root, name)
        cls = getattr(transformers, fx["cls"])
        io, _ = load(os.path.join(d, "io.safetensors"))
        args = dict(input_ids=io["input_ids"], attention_mask=io["attention_mask"],
                    token_type_ids=io["token_type_ids"], labels=io["labels"])
        model = cls.from_pretrained(os.path.join(d, "model")).eval()
        with torch.no_grad():
            out = model(**args, output_hidden_states=True)
        assert torch.equal(out.logits, io["logits"]) and torch.equal(out.loss, io["loss"]), name
        for f in os.listdir(d):
            p = os.path.join(d, f)
            assert os.path.isdir(p) or os.path.getsize(p) < 300 * 1024, p
        assert os.path.getsize(os.path.join(d, "model", "model.safetensors")) < 300 * 1024
        # padded rows really are right-padded with pad ids, and the mask is what the README says
        pad = model.config.pad_token_id
        assert torch.equal(io["attention_mask"].sum(1), torch.tensor(LENGTHS))
        assert bool((io["input_ids"][io["attention_mask"] == 0] == pad).all())
        assert bool((io["input_ids"][io["attention_mask"] == 1] != pad).all())

        cfg = json.load(open(os.path.join(d, "model", "config.json")))
        W, meta = load(os.path.join(d, "model", "model.safetensors"))
        assert meta == {"format": "pt"}
        ref = encoder_family.forward(cfg, W, io["input_ids"], io["attention_mask"], io["token_type_ids"])
        r = {"logits": (ref["logits"] - io["logits"]).abs().max().item(),
             "loss": abs(encoder_family.loss(cfg, ref["logits"], io["labels"]).item() - io["loss"].item()),
             "hidden": max((a - io[f"hidden_states.{i}"]).abs().max().item()
                           for i, a in enumerate(ref["hidden_states"]))}
        if "pooled_output" in io:
            r["pooled"] = (ref["pooled_output"] - io["pooled_output"]).abs().max().item()
        if "lora" in fx:
            adir = os.path.join(d, "lora_adapter")
            base = cls.from_pretrained(os.path.join(d, "model")).eval()
            pm = PeftModel.from_pretrained(base, adir).eval()
            with torch.no_grad():
                aout = pm(**args)
            assert torch.equal(aout.logits, io["adapter_logits"]), name
            assert torch.equal(aout.loss, io["adapter_loss"]), name
            assert (io["adapter_logits"] - io["logits"]).abs().max() > 0.1, name
            A, ameta = load(os.path.join(adir, "adapter_model.safetensors"))
            assert ameta == {"format": "pt"}, ameta
            acfg = json.load(open(os.path.join(adir, "adapter_config.json")))
            ref_a = encoder_family.forward(cfg, encoder_family.apply_lora(W, A, acfg), io["input_ids"],
                                           io["attention_mask"], io["token_type_ids"])
            r["adapter_logits"] = (ref_a["logits"] - io["adapter_logits"]).abs().max().item()
            with torch.no_grad():  # PEFT's own merge agrees too
                merged = pm.merge_and_unload()(**args).logits
            r["peft_merged"] = (merged - io["adapter_logits"]).abs().max().item()
        scale = max(1.0, io["logits"].abs().max().item())
        for k, v in r.items():
            assert v < 1e-4 * scale, (name, k, v)
        report[name] = {k: float(f"{v:.2g}") for k, v in r.items()}
    return report


def main():
    # peft 0.6.2's LoraConfig turns target_modules into a set, and save_pretrained writes it back
    # as a list in set order, which follows str-hash randomisation: pin the hash seed so
    # adapter_config.json is reproducible (peft's own bytes, not rewritten by us).
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0"))
    args = sys.argv[1:]
    default = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "fixtures", "encoders")
    if "--check" in args:
        tmp = tempfile.mkdtemp()
        try:
            generate(tmp)
            bad = []
            for root_a, root_b in ((tmp, default), (default, tmp)):
                for dirpath, _, files in os.walk(root_a):
                    for fn in files:
                        p = os.path.join(dirpath, fn)
                        q = os.path.join(root_b, os.path.relpath(p, root_a))
                        if not os.path.exists(q) or not filecmp.cmp(p, q, shallow=False):
                            bad.append(os.path.relpath(p, root_a))
            print("byte-identical" if not bad else "DIFFER: " + ", ".join(sorted(set(bad))))
            sys.exit(1 if bad else 0)
        finally:
            shutil.rmtree(tmp)
    out = args[args.index("--out") + 1] if "--out" in args else default
    generate(out)
    print(json.dumps(self_check(out), indent=1))
    print("self-check ok:", out)


if __name__ == "__main__":
    main()
