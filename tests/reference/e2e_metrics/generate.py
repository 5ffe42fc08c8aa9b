#!/usr/bin/env python3
"""Writes the E2E metric test cases (hypothesis and reference files) and their expected scores,
computed by the official E2E challenge scorer (tuetschek/e2e-metrics measure_scores.py with
`-p`: pymteval BLEU/NIST, pycocoevalcap ROUGE-L/CIDEr), to tests/reference/e2e_metrics/.

The upstream code is not part of this repository: it is read from a checkout given by
--upstream (default /tmp/e2e-metrics; README.md lists the files and where they come from).
Its Java steps cannot run here: METEOR is not reported, and the Stanford PTBTokenizer that
pycocoevalcap's tokenizer wrapper starts as `java ...` is replaced by ptb_emulation.py (a
`java` wrapper put first on PATH), so the wrapper's own code still runs.

    /usr/bin/python3 tests/reference/e2e_metrics/generate.py [--upstream /tmp/e2e-metrics]
"""
import argparse
import contextlib
import io
import json
import os
import random
import stat
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VALID = "/work/shared/data/datasets/e2e/valid.txt"


# ----------------------------------------------------------------------------- cases
def mr_groups(path):
    """AdaMix-format E2E file ("MR||reference" a line) -> [(mr, [refs])] in file order."""
    groups = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            mr, ref = line.split("||", 1)
            ref = ref.strip()
            if groups and groups[-1][0] == mr:
                groups[-1][1].append(ref)
            else:
                groups.append((mr, [ref]))
    return groups


def perturb(sentence, rng):
    """A system-output-like variant of a reference: dropped, repeated, swapped or replaced words."""
    words = sentence.split()
    kind = rng.randrange(6)
    if kind == 0 and len(words) > 4:
        del words[rng.randrange(len(words))]
    elif kind == 1:
        i = rng.randrange(len(words))
        words[i:i] = [words[i]] * 2  # repeated n-grams
    elif kind == 2 and len(words) > 3:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    elif kind == 3:
        words[rng.randrange(len(words))] = rng.choice(["restaurant", "pub", "cheap", "the", "near", "."])
    elif kind == 4:
        words = words[: max(2, len(words) // 2)]  # much shorter: brevity penalties
    else:
        words = [w.upper() if rng.random() < 0.3 else w for w in words]  # mixed case
    return " ".join(words)


def mid_size_case():
    rng = random.Random(20240611)
    groups = mr_groups(VALID)
    picked = rng.sample(range(len(groups)), 30)
    refs, hyps = [], []
    for gi in sorted(picked):
        mr, rs = groups[gi]
        refs.append(rs)
        hyps.append(perturb(rng.choice(rs), rng))
    return hyps, refs


BASIC_REFS = [
    ["The Eagle is a cheap coffee shop near Burger King.", "Near Burger King, there is a cheap coffee shop called The Eagle.",
     "The Eagle coffee shop is cheap; it's located near Burger King."],
    ["Alimentum is not family-friendly. It's in the city centre and costs £20-25.",
     "Alimentum (city centre) isn't kid friendly; prices are £20-25 per person."],
    ["Zizzi is a pub with a 5 out of 5 rating.", "Zizzi, a pub, is rated 5 out of 5 by customers!",
     "\"Zizzi\" is a highly rated pub: 5/5.", "Customers rate the pub Zizzi 5 out of 5."],
    ["Aromi serves French food for less than £20. It is not family friendly."],
    ["The Wrestlers is a family-friendly restaurant by the riverside serving Japanese food.",
     "By the riverside, The Wrestlers serves Japanese food and welcomes children.",
     "Japanese food is served at The Wrestlers, a family friendly riverside restaurant."],
]
BASIC_HYPS = [
    "The Eagle is a cheap coffee shop near Burger King .",
    "ALIMENTUM isn't family-friendly, it's in the City Centre and costs £20-25.",
    "Zizzi is a pub pub pub with a 5 out of 5 rating rating.",
    "Aromi serves French food for less than £ 20 and is not family friendly",
    "The Wrestlers (riverside) serves Japanese food; it's family-friendly!",
]

UNICODE_REFS = [
    ["Café Sicilia serves Italian food – it’s “excellent”…", "The café named Café Sicilia is excellent…"],
    ["Prices at The Golden Curry range from £30 to £40 (moderate).", "The Golden Curry costs £30–£40."],
    ["Fitzbillies is a coffee shop; it doesn't cater for families.", "Fitzbillies, a coffee shop, can't host children."],
]
UNICODE_HYPS = [
    "CAFÉ Sicilia serves italian food - it's \"excellent\"...",
    "The Golden Curry costs £30 - £40 (moderate)",
    "Fitzbillies isn’t a family coffee shop: it can’t host children.",
]

SHORT_REFS = [
    ["There is a pub called The Phoenix.", "The Phoenix is a pub."],
    ["Loch Fyne is a restaurant.", "Loch Fyne serves food."],
    ["The Mill is a pub near the river.", "Near the river is The Mill, a pub."],
    ["Cotto is cheap.", "Cotto has low prices."],
]
# an output of punctuation only (empty after PTB tokenisation and punctuation removal), a
# one-token output (negative n-gram counts in pymteval's BLEU/NIST), and an empty line
SHORT_HYPS = ["The Phoenix is a pub.", "...", "pub", ""]

VARREF_REFS = [
    ["Browns Cambridge is a riverside restaurant."],
    ["The Punter is cheap.", "The Punter has low prices.", "Cheap food is served at The Punter.",
     "The Punter is an inexpensive place.", "You can eat cheaply at The Punter."],
    ["Strada is near Rainbow Vegetarian Café.", "Near Rainbow Vegetarian Café you will find Strada."],
]
VARREF_HYPS = [
    "Browns Cambridge is a restaurant by the riverside.",
    "The Punter is cheap and has low prices.",
    "Strada is near the Rainbow Vegetarian Café.",
]

SINGLE_REFS = [["The Rice Boat is a Chinese restaurant."], ["Blue Spice is a coffee shop in the city centre."],
               ["The Dumpling Tree is a pub with Italian food."]]
SINGLE_HYPS = ["The Rice Boat serves Chinese food.", "Blue Spice is a coffee shop in the centre of the city.",
               "The Dumpling Tree is an Italian pub."]


def write_case(name, hyps, refs, single_ref=False):
    d = os.path.join(HERE, "cases", name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "hyps.txt"), "w", encoding="utf-8") as f:
        f.write("".join(h + "\n" for h in hyps))
    with open(os.path.join(d, "refs.txt"), "w", encoding="utf-8") as f:
        if single_ref:  # one reference a line, no blank lines: measure_scores' single-reference layout
            f.write("".join(r[0] + "\n" for r in refs))
        else:
            f.write("\n".join("".join(r + "\n" for r in rs) for rs in refs))
    return d


def cases():
    mid_hyps, mid_refs = mid_size_case()
    return [
        ("basic", BASIC_HYPS, BASIC_REFS, False),
        ("unicode", UNICODE_HYPS, UNICODE_REFS, False),
        ("short_outputs", SHORT_HYPS, SHORT_REFS, False),
        ("variable_refs", VARREF_HYPS, VARREF_REFS, False),
        ("single_ref_file", SINGLE_HYPS, SINGLE_REFS, True),
        ("valid30", mid_hyps, mid_refs, False),
    ]


# ----------------------------------------------------------------------------- scoring
def install_fake_java(upstream):
    """A `java` on PATH that runs ptb_emulation.py with the PTBTokenizer arguments it gets."""
    bindir = os.path.join(upstream, "fakebin")
    os.makedirs(bindir, exist_ok=True)
    java = os.path.join(bindir, "java")
    with open(java, "w") as f:
        f.write("#!/bin/sh\nexec %s %s \"$@\"\n" % (sys.executable, os.path.join(HERE, "ptb_emulation.py")))
    os.chmod(java, os.stat(java).st_mode | stat.S_IEXEC)
    os.environ["PATH"] = bindir + os.pathsep + os.environ["PATH"]


def score_case(ms, case_dir):
    from metrics.pymteval import BLEUScore
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        _, data_ref, data_sys = ms.load_data(os.path.join(case_dir, "refs.txt"), os.path.join(case_dir, "hyps.txt"))
        coco_eval = ms.run_coco_eval(data_ref, data_sys)
        mteval = ms.run_pymteval(data_ref, data_sys)
        # the tokens each scorer saw, for the C++ tokenizers' tests
        coco_refs = ms.create_coco_refs(data_ref)
        gts = {}
        for ann in coco_refs["annotations"]:
            gts.setdefault(ann["image_id"], []).append({"caption": ann["caption"]})
        ptb_refs = PTBTokenizer().tokenize(gts)
        ptb_hyps = PTBTokenizer().tokenize({"inst-%d" % i: [{"caption": h}] for i, h in enumerate(data_sys)})
    tok = BLEUScore().tokenize
    n = len(data_sys)
    ids = ["inst-%d" % i for i in range(n)]
    return {
        "mrs": n,
        "references": sum(len(r) for r in data_ref),
        "scores": {"bleu": mteval["BLEU"], "nist": mteval["NIST"], "rouge_l": float(coco_eval.eval["ROUGE_L"]),
                   "cider": float(coco_eval.eval["CIDEr"])},
        "per_mr": {"rouge_l": [float(coco_eval.imgToEval[i]["ROUGE_L"]) for i in ids],
                   "cider": [float(coco_eval.imgToEval[i]["CIDEr"]) for i in ids]},
        "mteval_tokens": {"hyps": [tok(h) for h in data_sys], "refs": [[tok(r) for r in rs] for rs in data_ref]},
        "ptb_tokens": {"hyps": [ptb_hyps["inst-%d" % i][0] for i in range(n)],
                       "refs": [ptb_refs["inst-%d" % i] for i in range(n)]},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", default="/tmp/e2e-metrics")
    args = ap.parse_args()
    sys.path.insert(0, args.upstream)
    install_fake_java(args.upstream)
    import measure_scores as ms

    expected = {"source": "tuetschek/e2e-metrics measure_scores.py -p (see README.md)", "cases": {}}
    for name, hyps, refs, single in cases():
        d = write_case(name, hyps, refs, single)
        expected["cases"][name] = score_case(ms, d)
        s = expected["cases"][name]["scores"]
        print("%-16s BLEU %.6f NIST %.6f ROUGE_L %.6f CIDEr %.6f" % (name, s["bleu"], s["nist"], s["rouge_l"], s["cider"]))
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
        f.write(dump(expected) + "\n")


def dump(obj, indent=0):
    """JSON with one line per list of scalars (a token list, a per-MR score list)."""
    pad = " " * (indent + 1)
    if isinstance(obj, dict):
        items = ["%s%s: %s" % (pad, json.dumps(k), dump(v, indent + 1)) for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(obj, list) and any(isinstance(v, (list, dict)) for v in obj):
        return "[\n" + ",\n".join(pad + dump(v, indent + 1) for v in obj) + "\n" + " " * indent + "]"
    return json.dumps(obj, ensure_ascii=False)


if __name__ == "__main__":
    main()
