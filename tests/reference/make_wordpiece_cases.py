"""BERT WordPiece cases made by the real transformers 4.31 BertTokenizer (the slow Python one,
loaded with from_pretrained as a model folder is), for tests/tokenizer/wordpiece_test.cpp.

usage:  source ../shared/clients/python/env.sh peft-0.6.2
        /usr/bin/python3 tests/reference/make_wordpiece_cases.py          # writes tests/fixtures/wordpiece/
        /usr/bin/python3 tests/reference/make_wordpiece_cases.py --check  # regenerate in memory, compare

Writes tests/fixtures/wordpiece/:
  vocab.txt        a small hand-made vocabulary (specials, ASCII, ##-pieces, accented, Greek,
                   Cyrillic, CJK, kana, Hangul jamo, Arabic, Devanagari, Thai, a few symbols)
  configs.json     name -> the tokenizer_config.json written beside vocab.txt for that variant
  cases.jsonl      one line per (config, text[, text_pair]): lower (do_lower_case), tokens
                   (tokenize(text)), ids (add_special_tokens=True), ids_plain (=False),
                   token_type_ids (with special tokens), decoded (decode(ids,
                   skip_special_tokens=True)), fast_differs (see below)
  tokenizer_uncased.json, tokenizer_cased.json
                   the same vocabulary as tokenizer.json documents, written the way transformers'
                   BertConverter lays them out (BertNormalizer, BertPreTokenizer, WordPiece model
                   and decoder; TemplateProcessing for uncased, BertProcessing for cased). No Rust
                   `tokenizers` here to write them, so they are built by hand.

fast_differs: the case's tokens change when the slow tokenizer's NFC step (BasicTokenizer.tokenize
normalizes to NFC; the Rust BertNormalizer does not) is switched off. Those cases are checked
against the vocab.txt loader only.

Special tokens written as AddedToken objects ({"__type": "AddedToken", "content": ...}) are not
among the configs: without the Rust `tokenizers` package transformers 4.31 stands in a dataclass
whose str() is its repr, so such a config misbehaves here in a way real installs do not. The C++
test checks that form against the plain strings instead.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import unicodedata

from transformers import BertTokenizer
from transformers.models.bert import tokenization_bert

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "fixtures", "wordpiece")

SPECIALS = ["[PAD]", "[unused0]", "[unused1]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[E1]", "[foo]", "<keep>"]
ASCII = [chr(c) for c in range(33, 127)]
WORDS = """the of and to in is was it that for on with as he she they we you i me my be are not this at by
from or an had but his her there can all one which were has their will would what so if when who no about
up out more some time into only other new just like could them then than its also two first after did do
does don won isn aren wasn couldn hello world how are you fine sure seen here stop more second only first
tricky token un play run bert word cafe caf resume naive deja vu uber munchen mu paris zurich sao paulo
istanbul stra super cal example com path user https http www foo bar soft hyphen tab sep line break cr lf
vt nel quoted parens brackets braces angle mixed english test ok yes""".split()
PIECES = """##s ##ed ##ing ##er ##ly ##es ##est ##tion ##ation ##ize ##izer ##ization ##ness ##ment ##able
##ible ##ful ##less ##aff ##ning ##piece ##e ##ume ##ive ##nchen ##ich ##ris ##ul ##bul ##ße ##sse ##per
##ifr ##ag ##il ##istic ##ex ##pi ##ali ##doc ##ious ##bar ##hen ##ello ##orld ##ank ##yph ##en""".split()
CASED = """Hello World The BERT Paris München Zürich São Paulo Über Don It Isn I How Stop CAFÉ Café
Straße ΣΑΣ Άλφα""".split()
ACCENTED = list("éèêëáàâäãåçñöôóòüúùûïîíßøæœłđðþ")
ACCENTED_PIECES = ["##" + c for c in "éèüöäñçßøåãóíá"]
GREEK = list("αβγδεσςλονφ") + ["##" + c for c in "ασςονλφ"] + ["σας", "αλφα"]
CYRILLIC = list("привтм") + ["##" + c for c in "ривеэтм"] + ["привет", "мир"]
CJK = list("中国人你好世界日本語学生文混合東京豈") + ["##" + c for c in "文国界本語合"]
KANA = list("こんにちはカタ") + ["##" + c for c in "んにちはカナ"]
HANGUL = list("한국어ᄒᄀᄋ") + ["##" + c for c in "ᅡᆫ국어국어"]
ARABIC = list("مرحبا") + ["##" + c for c in "رحبا"]
DEVANAGARI = ["ह"] + ["##" + c for c in "िन्दी"]
THAI = ["ส"] + ["##" + c for c in "วัสดี"]
SYMBOLS = list("€£°©±×«»“”‘’—–…¡¿。、「」·👍")
SYMBOLS += ["##" + c for c in "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"]
TAIL = ["[unused2]", "[MASK2]"]  # a token after all others, so ids span the whole file


def vocabulary():
    seen, out = set(), []
    for group in (SPECIALS, ASCII, WORDS, PIECES, CASED, ACCENTED, ACCENTED_PIECES, GREEK, CYRILLIC, CJK, KANA,
                  HANGUL, ARABIC, DEVANAGARI, THAI, SYMBOLS, TAIL):
        for t in group:
            if t not in seen:
                seen.add(t)
                out.append(t)
    return out


CONFIGS = {
    "uncased": {"do_lower_case": True},
    "cased": {"do_lower_case": False},
    "uncased_keep_accents": {"do_lower_case": True, "strip_accents": False},
    "cased_strip_accents": {"do_lower_case": False, "strip_accents": True},
    "no_chinese_split": {"do_lower_case": True, "tokenize_chinese_chars": False},
    # never_split tokens skip lowercasing, accent stripping, punctuation splitting and WordPiece
    # (kept whole, then looked up: "hello-world" is not in the vocabulary, so [UNK]).
    "never_split": {"do_lower_case": True, "never_split": ["[foo]", "hello-world", "café", "<keep>"]},
    "never_split_cased": {"do_lower_case": False, "never_split": ["[foo]", "[FOO]", "hello-world", "<keep>"]},
    # [E1] is in the vocabulary; <ent> is not, so from_pretrained appends it (id = vocab size).
    "extra_specials": {"do_lower_case": True, "additional_special_tokens": ["[E1]", "<ent>"]},
    "no_cleanup": {"do_lower_case": True, "clean_up_tokenization_spaces": False},
    # No BasicTokenizer: WordPiece on str.split() words, nothing cleaned or lowercased.
    "no_basic": {"do_lower_case": True, "do_basic_tokenize": False},
}

TEXTS = [
    "",
    "   ",
    "\t\n\r ",
    "Hello world!",
    "hello, world... how are you?",
    "unaffable playing tokenization",
    "Tokenizer BERT wordpiece",
    "Don't stop, it's fine! Isn't it? I'm sure you've seen they're here.",
    "\"quoted\" (parens) [brackets] {braces} <angle>",
    "a^b`c~d|e\\f_g$h#i@j&k*l+m=n",
    "3.14159 1,000,000 $5.00 50% 2023-10-05",
    "https://www.example.com/path?q=1&r=2 user@example.com",
    "Café naïve résumé déjà vu",
    "CAFÉ Über München Zürich São Paulo",
    "Cafe\u0301 e\u0301te\u0301",  # decomposed accents (NFC composes them)
    "q\u0301 \u0301alone",  # a mark with no precomposed form; a mark starting a word
    "İstanbul STRASSE Straße \u1e9e",
    "ΣΑΣ σας Άλφα ΟΔΟΣ",
    "Привет мир",
    "中国人 你好世界",
    "hello世界English混合",
    "日本語とカタカナ こんにちは",
    "\uf900 compatibility ideograph",
    "한국어 텍스트",
    "مَرْحَبًا مرحبا",
    "हिन्दी",
    "สวัสดี",
    "«Bonjour» “quotes” ‘single’ — dash – en… ¡Hola! ¿Qué? 。、「引用」·",
    "price €5 £3 10° © ± 2×3",
    "Ｈｅｌｌｏ ＡＢＣ ﬁne",
    "hello😀 😀 👍 👍🏽 👨\u200d👩\u200d👧",
    "foo\u200bbar \ufeffhello soft\u00adhyphen a\u180eb",
    "hello\x00world a\x07b del\x7fete nel\x85x vt\x0bx ff\x0cx fs\x1cx rep\ufffdlaced",
    "a\u00a0b c\u2003d e\u3000f g\u2028h i\u2029j k\u1680l m\u202fn o\u205fp",
    "tab\tsep line\nbreak cr\r\nlf",
    "unassigned\u0378x private\ue000use",
    "[CLS] hello [SEP]",
    "hello[MASK]world [mask] [Mask]",
    "[UNK] [PAD][PAD] [CLS][SEP]",
    "  [SEP]  ",
    "[foo] [FOO] hello-world <keep> Café café",
    "[E1] <ent> entity[E1]x",
    "a" * 100,
    "a" * 101,
    "é" * 101,
    "İ" * 60,
    "x" * 99 + "é",
    "supercalifragilisticexpialidocious",
    "ab-" * 40,
    "The the THE tHe",
    "wasn't couldn't won't don't",
    "it 's a ' quote ' and n't",
    "end .",
    "##s ## # ###",
    "[unused2] [MASK2]",
]

PAIRS = [
    ("Hello world!", "How are you?"),
    ("", "only second"),
    ("only first", ""),
    ("中文", "日本語"),
    ("[CLS] tricky", "[SEP] more [MASK]"),
    ("Don't", "won't"),
    ("a" * 101, "b"),
    ("Café", "CAFÉ"),
]

# Which configs run which inputs: the two main variants run everything; the others the inputs
# their option touches.
PLAN = {
    "uncased": (TEXTS, PAIRS),
    "cased": (TEXTS, PAIRS),
    "uncased_keep_accents": ([t for t in TEXTS if any(ord(c) > 127 for c in t)], []),
    "cased_strip_accents": ([t for t in TEXTS if any(ord(c) > 127 for c in t)], []),
    "no_chinese_split": (["中国人 你好世界", "hello世界English混合", "日本語とカタカナ こんにちは",
                          "\uf900 compatibility ideograph"],
                         [("中文", "日本語")]),
    "never_split": (["[foo] [FOO] hello-world <keep> Café café", "hello[MASK]world [mask] [Mask]", "hello-world",
                     "[foo]bar"], []),
    "never_split_cased": (["[foo] [FOO] hello-world <keep> Café café", "hello[MASK]world [mask] [Mask]",
                           "hello-world", "[foo]bar"], []),
    "extra_specials": (["[E1] <ent> entity[E1]x", "[UNK] [PAD][PAD] [CLS][SEP]", "x<ent>y <ENT>"],
                       [("<ent> a", "[E1] b")]),
    "no_cleanup": (["Don't stop, it's fine! Isn't it? I'm sure you've seen they're here.",
                    "hello, world... how are you?", "it 's a ' quote ' and n't", "end ."], []),
    "no_basic": (["Hello world!", "hello world", "hello\x1cworld a\u2028b c\x00d", "[CLS] hello[SEP]world", "Café",
                  "中文"], [("hello", "world")]),
}


class NoNfc:
    """unicodedata with NFC switched off (what the Rust BertNormalizer leaves out)."""

    def __getattr__(self, name):
        return getattr(unicodedata, name)

    @staticmethod
    def normalize(form, s):
        return s if form == "NFC" else unicodedata.normalize(form, s)


def load(folder, vocab, config):
    with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in vocab))
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f)
    return BertTokenizer.from_pretrained(folder)


def case(tok, name, text, pair):
    enc = tok(text, pair) if pair is not None else tok(text)
    plain = tok(text, pair, add_special_tokens=False) if pair is not None else tok(text, add_special_tokens=False)
    tokens = tok.tokenize(text) + (tok.tokenize(pair) if pair is not None else [])
    tokenization_bert.unicodedata = NoNfc()
    try:
        tokens_no_nfc = tok.tokenize(text) + (tok.tokenize(pair) if pair is not None else [])
    finally:
        tokenization_bert.unicodedata = unicodedata
    row = {"config": name, "lower": CONFIGS[name].get("do_lower_case", True), "text": text}
    if pair is not None:
        row["text_pair"] = pair
    row.update(tokens=tokens, ids=enc["input_ids"], ids_plain=plain["input_ids"],
               token_type_ids=enc["token_type_ids"],
               decoded=tok.decode(enc["input_ids"], skip_special_tokens=True),
               fast_differs=tokens != tokens_no_nfc)
    return row


def tokenizer_json(vocab, lower, template):
    ids = {t: i for i, t in enumerate(vocab)}
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    added = [dict(id=ids[t], content=t, single_word=False, lstrip=False, rstrip=False, normalized=False, special=True)
             for t in sorted(specials, key=ids.get)]
    cls, sep = ids["[CLS]"], ids["[SEP]"]
    if template:
        special = lambda t, type_id: {"SpecialToken": {"id": t, "type_id": type_id}}  # noqa: E731
        seq = lambda s, type_id: {"Sequence": {"id": s, "type_id": type_id}}  # noqa: E731
        post = {"type": "TemplateProcessing",
                "single": [special("[CLS]", 0), seq("A", 0), special("[SEP]", 0)],
                "pair": [special("[CLS]", 0), seq("A", 0), special("[SEP]", 0), seq("B", 1), special("[SEP]", 1)],
                "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [cls], "tokens": ["[CLS]"]},
                                   "[SEP]": {"id": "[SEP]", "ids": [sep], "tokens": ["[SEP]"]}}}
    else:
        post = {"type": "BertProcessing", "sep": ["[SEP]", sep], "cls": ["[CLS]", cls]}
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": lower},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": post,
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": ids},
    }


def generate():
    vocab = vocabulary()
    files = {"vocab.txt": "".join(t + "\n" for t in vocab),
             "configs.json": json.dumps(CONFIGS, ensure_ascii=False, indent=1) + "\n"}
    rows = []
    work = tempfile.mkdtemp()
    try:
        for name, (texts, pairs) in PLAN.items():
            folder = os.path.join(work, name)
            os.makedirs(folder)
            tok = load(folder, vocab, CONFIGS[name])
            for t in texts:
                rows.append(case(tok, name, t, None))
            for a, b in pairs:
                rows.append(case(tok, name, a, b))
    finally:
        shutil.rmtree(work)
    files["cases.jsonl"] = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    files["tokenizer_uncased.json"] = json.dumps(tokenizer_json(vocab, True, True), ensure_ascii=False) + "\n"
    files["tokenizer_cased.json"] = json.dumps(tokenizer_json(vocab, False, False), ensure_ascii=False) + "\n"
    return files, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="compare with the files on disk, write nothing")
    args = ap.parse_args()
    files, rows = generate()
    if args.check:
        def same(name, text):
            path = os.path.join(OUT, name)
            return os.path.exists(path) and open(path, encoding="utf-8", newline="").read() == text

        bad = [n for n, text in files.items() if not same(n, text)]
        print("differs: " + ", ".join(bad) if bad else f"identical ({len(rows)} cases)")
        sys.exit(1 if bad else 0)
    os.makedirs(OUT, exist_ok=True)
    for n, text in files.items():
        with open(os.path.join(OUT, n), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    unk = sum(r["tokens"].count("[UNK]") for r in rows)
    print(f"wrote {OUT}: {len(files['vocab.txt'].splitlines())} tokens, {len(rows)} cases "
          f"({sum(r['fast_differs'] for r in rows)} differ without NFC, {unk} [UNK] tokens)")


if __name__ == "__main__":
    main()
