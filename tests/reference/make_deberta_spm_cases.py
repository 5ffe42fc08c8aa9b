"""DeBERTa-v3 tokenizer cases made by the real transformers 4.31 DebertaV2Tokenizer (the slow one,
on the python3-sentencepiece library), for tests/tokenizer/deberta_spm_test.cpp.

usage:  source ../shared/clients/python/env.sh peft-0.6.2
        /usr/bin/python3 tests/reference/make_deberta_spm_cases.py          # writes tests/fixtures/deberta_spm/
        /usr/bin/python3 tests/reference/make_deberta_spm_cases.py --check  # regenerate the cases, compare

Writes tests/fixtures/deberta_spm/:
  spm.model     a unigram SentencePiece model laid out as DeBERTa-v3's is: [PAD] 0, [CLS] 1 (bos),
                [SEP] 2 (eos), [UNK] 3, no [MASK] (from_pretrained adds it past the vocabulary, as
                deberta-v3's added_tokens.json has [MASK] = 128000). Trained here by
                sentencepiece's own trainer on the first 3,000 sentences of GLUE SST-2's train.tsv
                (../shared/data/datasets/glue/SST-2), 400 pieces, one thread; --check keeps the
                committed model and regenerates only the cases.
  configs.json  name -> the tokenizer_config.json written beside spm.model for that variant
  cases.jsonl   one line per (config, text[, text_pair]): tokens (tokenize(text)), ids
                (add_special_tokens=True), ids_plain (=False), token_type_ids, decoded
                (decode(ids, skip_special_tokens=True))
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import sentencepiece as spm
from transformers import DebertaV2Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "fixtures", "deberta_spm")
SST2 = os.path.join(HERE, "..", "..", "..", "shared", "data", "datasets", "glue", "SST-2", "train.tsv")

CONFIGS = {
    "default": {"do_lower_case": False, "vocab_type": "spm"},  # deberta-v3-base's own
    "lower": {"do_lower_case": True, "vocab_type": "spm"},
    "punct": {"do_lower_case": False, "split_by_punct": True, "vocab_type": "spm"},
}

TEXTS = [
    "", " ", "hello", "Hello world!", "the movie was great , and the acting was fine .",
    "  leading and trailing spaces  ", "tabs\tand\nnewlines\r\nhere", "multiple     spaces",
    "It's a don't-miss film; really: (yes) [no] {maybe} \"quoted\"", "a,b.c!d?e;f:g",
    "numbers 123 4.56 7,890 and 1990s", "UPPER lower MiXeD", "Café naïve résumé déjà vu",
    "München Zürich São Paulo", "日本語のテキスト", "中文 字符", "emoji 🙂 and ☃ snow", "Ελληνικά κείμενο",
    "hello [SEP] world", "[CLS] at start", "at end [SEP]", "[MASK]ed word", "a[CLS]b", "x [MASK] y [PAD] z",
    "[UNK] stays", "[cls] lower is text", "unseen zxqv words qqqq", "ﬁ ligature and ½ half",
    "under_score and hyphen-ated and slash/ed", "e-mail@example.com https://x.org/a?b=c",
    "The film 's final act is a mess , but its heart is in the right place .",
    "hidden\u00a0nbsp and\u2009thin space", "zero\u200bwidth",
]
PAIRS = [
    ("A man is playing a guitar.", "A person plays an instrument."),
    ("", "only the second"),
    ("only the first", ""),
    ("hello [SEP] there", "[MASK] second"),
    ("Café", "CAFÉ café"),
    ("Is it good?", "It's great , really ."),
]


def train_model(path):
    lines = []
    with open(SST2, encoding="utf-8") as f:
        next(f)
        for line in f:
            lines.append(line.split("\t")[0])
            if len(lines) == 3000:
                break
    tmp = tempfile.mkdtemp()
    try:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\nCafé naïve München 日本語 Ελληνικά\n")
        spm.SentencePieceTrainer.train(
            input=corpus, model_prefix=os.path.join(tmp, "spm"), vocab_size=400, model_type="unigram",
            character_coverage=1.0, num_threads=1, pad_id=0, bos_id=1, eos_id=2, unk_id=3,
            pad_piece="[PAD]", bos_piece="[CLS]", eos_piece="[SEP]", unk_piece="[UNK]", minloglevel=2)
        shutil.copyfile(os.path.join(tmp, "spm.model"), path)
    finally:
        shutil.rmtree(tmp)


def cases(model_path):
    rows = []
    for name, cfg in CONFIGS.items():
        tmp = tempfile.mkdtemp()
        try:
            shutil.copyfile(model_path, os.path.join(tmp, "spm.model"))
            with open(os.path.join(tmp, "tokenizer_config.json"), "w") as f:
                json.dump(cfg, f)
            tok = DebertaV2Tokenizer.from_pretrained(tmp)
        finally:
            shutil.rmtree(tmp)
        for text in TEXTS:
            enc = tok(text)
            rows.append({"config": name, "text": text, "tokens": tok.tokenize(text), "ids": enc["input_ids"],
                         "ids_plain": tok(text, add_special_tokens=False)["input_ids"],
                         "token_type_ids": enc["token_type_ids"],
                         "decoded": tok.decode(enc["input_ids"], skip_special_tokens=True)})
        for a, b in PAIRS:
            enc = tok(a, b)
            rows.append({"config": name, "text": a, "text_pair": b, "ids": enc["input_ids"],
                         "ids_plain": tok(a, b, add_special_tokens=False)["input_ids"],
                         "token_type_ids": enc["token_type_ids"],
                         "decoded": tok.decode(enc["input_ids"], skip_special_tokens=True)})
    return rows


def write(out, rows):
    with open(os.path.join(out, "configs.json"), "w") as f:
        json.dump(CONFIGS, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(out, "cases.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    model = os.path.join(OUT, "spm.model")
    if args.check:
        rows = cases(model)
        tmp = tempfile.mkdtemp()
        try:
            write(tmp, rows)
            for name in ("configs.json", "cases.jsonl"):
                with open(os.path.join(tmp, name), "rb") as a, open(os.path.join(OUT, name), "rb") as b:
                    assert a.read() == b.read(), name
        finally:
            shutil.rmtree(tmp)
        print(f"check ok: {len(rows)} cases")
        return
    os.makedirs(OUT, exist_ok=True)
    train_model(model)
    rows = cases(model)
    write(OUT, rows)
    print(f"wrote {OUT}: {len(rows)} cases")


if __name__ == "__main__":
    sys.exit(main())
