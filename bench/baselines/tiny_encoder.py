"""A randomly initialised tiny BERT for `bench/encoder_glue.sh` (no pretrained encoder exists here).

  python3 tiny_encoder.py OUT_DIR TRAIN.tsv [--layers L --hidden C --seed S --labels K]

Writes OUT_DIR/{config.json, model.safetensors} with transformers 4.31 (BertForSequenceClassification,
its own init: N(0, initializer_range) weights, 0.02 unless --init-std says otherwise) and a WordPiece vocab.txt: [PAD] [UNK] [CLS] [SEP] [MASK], the 4,000 most
frequent lower-cased words of the training file, then every character in it and its "##" form, so
that any text of the file tokenizes without [UNK].
"""
import argparse
import collections
import os
import re

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("train")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--labels", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--words", type=int, default=4000)
    ap.add_argument("--init-std", type=float, default=0.02,
                    help="std of the linear and embedding weights (transformers' initializer_range: 0.02)")
    a = ap.parse_args()
    from transformers import BertConfig, BertForSequenceClassification

    words, chars = collections.Counter(), set()
    with open(a.train, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        text_cols = [i for i, h in enumerate(header) if h in ("sentence", "sentence1", "sentence2", "question",
                                                               "question1", "question2", "#1 String", "#2 String")]
        for line in f:
            cols = line.rstrip("\n").split("\t")
            for i in text_cols:
                if i < len(cols):
                    for w in re.findall(r"\w+|[^\w\s]", cols[i].lower()):
                        words[w] += 1
                        chars.update(w)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += [w for w, _ in words.most_common(a.words) if w not in vocab]
    seen = set(vocab)
    for c in sorted(chars):
        for piece in (c, "##" + c):
            if piece not in seen:
                vocab.append(piece)
                seen.add(piece)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    with open(os.path.join(a.out, "tokenizer_config.json"), "w") as f:
        f.write('{"do_lower_case": true, "tokenizer_class": "BertTokenizer"}\n')
    torch.manual_seed(a.seed)
    config = BertConfig(vocab_size=len(vocab), hidden_size=a.hidden, num_hidden_layers=a.layers,
                        num_attention_heads=a.heads, intermediate_size=4 * a.hidden, max_position_embeddings=128,
                        num_labels=a.labels, initializer_range=a.init_std)
    BertForSequenceClassification(config).save_pretrained(a.out, safe_serialization=True)
    print(f"{a.out}: BERT {a.layers} x {a.hidden}, vocab {len(vocab)}, {a.labels} labels, seed {a.seed}")


if __name__ == "__main__":
    main()
