"""peft.cpp's sequence-classification adapters (encoder + head) loaded by Hugging Face PEFT.

  python3 peft_seqcls_roundtrip.py [--arch bert|deberta-v2]   (under env.sh peft-0.6.2 or peft-0.8.2)

transformers writes a tiny random BertForSequenceClassification with a WordPiece vocab.txt (or a
DeBERTa-v3-style DebertaV2ForSequenceClassification with the unigram spm.model of
tests/fixtures/deberta_spm, [MASK] added past it as from_pretrained does); peft.cpp trains each method a few steps on a GLUE TSV (`--data-format glue`: sentence pairs
through the tokenizer's pair template, the head trained as modules_to_save), and
`PeftModel.from_pretrained` must give `peft logits`'s head logits (within 1e-4) on a padded
batch of sentence pairs tokenized by transformers' BertTokenizer (DebertaV2Tokenizer). Mergeable adapters are also
merged by `peft merge`, and transformers' `from_pretrained` of the merged folder must agree.
DeBERTa has no past_key_values, so prefix tuning must be refused there, by name.
"""
import argparse
import os
import random
import shutil

import torch

from common import Report, max_diff, peft, scratch_dir

WORDS = ("the a film movie story actor plot good bad great awful boring fun loved hated was is not very "
         "really quite and but it this that dull bright funny sad scene music ending").split()


HERE = os.path.dirname(os.path.abspath(__file__))
SPM = os.path.join(HERE, "..", "..", "fixtures", "deberta_spm", "spm.model")


def perturb(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():  # larger than the 0.02 init, so that differences show
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)


def make_deberta(out_dir, seed=0):
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification, DebertaV2Tokenizer
    os.makedirs(out_dir, exist_ok=True)
    shutil.copyfile(SPM, os.path.join(out_dir, "spm.model"))
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        f.write('{"do_lower_case": false, "vocab_type": "spm", "tokenizer_class": "DebertaV2Tokenizer"}\n')
    vocab = len(DebertaV2Tokenizer.from_pretrained(out_dir))  # the pieces and [MASK]
    config = DebertaV2Config(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                             intermediate_size=64, max_position_embeddings=64, num_labels=2, type_vocab_size=0,
                             relative_attention=True, position_buckets=8, pos_att_type=["p2c", "c2p"],
                             norm_rel_ebd="layer_norm", share_att_key=True, position_biased_input=False,
                             layer_norm_eps=1e-7, pad_token_id=0)
    torch.manual_seed(seed)
    model = DebertaV2ForSequenceClassification(config).eval()
    perturb(model, seed + 1)
    model.save_pretrained(out_dir, safe_serialization=True)
    return out_dir


def make_bert(out_dir, seed=0):
    from transformers import BertConfig, BertForSequenceClassification
    os.makedirs(out_dir, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "!", "?"] + WORDS + ["##s", "##ly", "##ed"]
    with open(os.path.join(out_dir, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        f.write('{"do_lower_case": true, "tokenizer_class": "BertTokenizer"}\n')
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64, num_labels=2)
    model = BertForSequenceClassification(config).eval()
    perturb(model, seed + 1)
    model.save_pretrained(out_dir, safe_serialization=True)
    return out_dir


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def glue_pairs(path, n=32, seed=1):
    """An RTE-layout TSV (index, sentence1, sentence2, label), n rows."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("index\tsentence1\tsentence2\tlabel\n")
        for i in range(n):
            f.write(f"{i}\t{sentence(rng, rng.randint(3, 9))} .\t{sentence(rng, rng.randint(2, 6))}\t"
                    f"{rng.choice(['entailment', 'not_entailment'])}\n")
    return path


ARCHS = {
    "bert": dict(make=make_bert, cls="BertForSequenceClassification", tok="BertTokenizer", cases=[
        ("lora", ["--method", "lora", "--lora-r", "4", "--lora-alpha", "8", "--target-modules", "query,value"],
         True),
        ("ia3", ["--method", "ia3"], True),
        ("prefix", ["--method", "prefix", "--num-virtual-tokens", "3"], False),
        ("prompt", ["--method", "prompt", "--num-virtual-tokens", "3"], False),
    ]),
    # LoRA on the key projection too: PEFT's wrapped key_proj/query_proj also project the
    # relative-position embeddings.
    "deberta-v2": dict(make=make_deberta, cls="DebertaV2ForSequenceClassification", tok="DebertaV2Tokenizer", cases=[
        ("lora", ["--method", "lora", "--lora-r", "4", "--lora-alpha", "8", "--target-modules",
                  "query_proj,key_proj,value_proj"], True),
        ("ia3", ["--method", "ia3"], True),
        ("prompt", ["--method", "prompt", "--num-virtual-tokens", "3"], False),
    ]),
}
TRAIN = ["--max-steps", "3", "--batch-size", "8", "--micro-batch-size", "4", "--learning-rate", "2e-2",
         "--warmup-steps", "0", "--val-set-size", "0", "--cutoff-len", "40", "--save-steps", "1000",
         "--logging-steps", "1000", "--seed", "7", "--data-format", "glue"]


def main():
    from peft import PeftModel
    import peft as hf_peft
    import safetensors.torch
    import transformers

    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", choices=sorted(ARCHS), default="bert")
    arch = ARCHS[ap.parse_args().arch]
    Model = getattr(transformers, arch["cls"])
    client = os.environ.get("PEFT_CLIENT", f"peft-{hf_peft.__version__}")
    work = scratch_dir(f"{client}-seqcls")
    model_dir = arch["make"](os.path.join(work, "model"))
    data = glue_pairs(os.path.join(work, "train.tsv"))
    tok = getattr(transformers, arch["tok"]).from_pretrained(model_dir)
    batch = tok(["the film was good .", "a very boring movie , really dull"], ["it is fun", "not great"],
                padding=True, return_tensors="pt")
    io = os.path.join(work, "in.safetensors")
    safetensors.torch.save_file({k: v.contiguous() for k, v in batch.items()}, io)

    def ours(adapter=None):
        out = os.path.join(work, "out.safetensors")
        peft("logits", "--model", model_dir, "--input", io, "--output", out, "--overwrite",
             *(["--adapter", adapter] if adapter else []))
        return safetensors.torch.load_file(out)["logits"]

    def theirs(model):
        with torch.no_grad():
            return model(**batch).logits

    report = Report(f"{client} on {arch['cls']}")
    base = ours()
    report.check("base model + head (transformers)", max_diff(theirs(Model.from_pretrained(model_dir).eval()), base))
    for i, (name, flags, mergeable) in enumerate(arch["cases"]):
        adapter = os.path.join(work, f"case{i}")
        peft("train", "--model", model_dir, "--data", data, "--output", adapter, *TRAIN, *flags)
        mine = ours(adapter)
        try:
            model = PeftModel.from_pretrained(Model.from_pretrained(model_dir), adapter).eval()
            report.check(name, max_diff(theirs(model), mine), f"(vs base {max_diff(mine, base):.2f})")
        except Exception as e:  # the client refused the folder: that is the failure reported
            report.error(name, f"{type(e).__name__}: {e}")
            continue
        if mergeable:
            merged = os.path.join(work, f"case{i}-merged")
            peft("merge", "--model", model_dir, "--adapter", adapter, "--out", merged)
            report.check(name + " merged (transformers)",
                         max_diff(theirs(Model.from_pretrained(merged).eval()), mine))
    # A pretrained checkpoint without the head (BertModel / DebertaV2Model, as bert-base or
    # deberta-v3-base ship): peft train builds the head as AutoModelForSequenceClassification does;
    # PEFT loads the adapter onto from_pretrained(num_labels=2): the classifier from
    # modules_to_save, and DeBERTa's pooler (not in the checkpoint) from the adapter's
    # modules_to_save ["pooler"].
    headless = os.path.join(work, "headless")
    Model.from_pretrained(model_dir).base_model.save_pretrained(headless, safe_serialization=True)
    for f in os.listdir(model_dir):
        if f not in ("config.json", "model.safetensors"):
            shutil.copyfile(os.path.join(model_dir, f), os.path.join(headless, f))
    adapter = os.path.join(work, "headless-lora")
    peft("train", "--model", headless, "--data", data, "--output", adapter, *TRAIN, *arch["cases"][0][1])
    out = os.path.join(work, "headless.safetensors")
    peft("logits", "--model", headless, "--input", io, "--output", out, "--adapter", adapter)
    mine = safetensors.torch.load_file(out)["logits"]
    try:
        model = PeftModel.from_pretrained(Model.from_pretrained(headless, num_labels=2), adapter).eval()
        report.check("lora on a headless checkpoint", max_diff(theirs(model), mine))
    except Exception as e:
        report.error("lora on a headless checkpoint", f"{type(e).__name__}: {e}")
    if arch["cls"].startswith("Deberta"):  # no past_key_values: prefix tuning is refused by name
        code, _, err = peft("train", "--model", model_dir, "--data", data, "--output", os.path.join(work, "prefix"),
                            *TRAIN, "--method", "prefix", "--num-virtual-tokens", "3", expect_ok=False)
        ok = code != 0 and "prefix tuning needs an attention" in err and not os.path.exists(
            os.path.join(work, "prefix", "adapter_config.json"))
        report.check("prefix refused by name", 0.0 if ok else 1.0, err.strip().splitlines()[-1] if err else "")
    report.finish()


if __name__ == "__main__":
    main()
