#!/usr/bin/env python3
"""A stand-in for `java -cp stanford-corenlp-3.4.1.jar edu.stanford.nlp.process.PTBTokenizer
-preserveLines -lowerCase FILE`, the tokenizer that pycocoevalcap's PTBTokenizer wrapper runs
before ROUGE-L and CIDEr in the E2E challenge's measure_scores.py.

The Stanford jar is not available here (no network, not in Debian), so this re-states the subset of
PTBLexer.flex (Stanford CoreNLP's JFlex grammar) that English NLG outputs exercise, as a JFlex-like
scanner: at each position every rule's regular expression is tried, the longest match wins (a
rule's trailing context counts towards its length, as in JFlex), ties go to the earlier rule, and
the rule's action makes the token(s). Rules, order and actions follow PTBLexer.flex with the
traditional PTB3 options (ptb3Escaping: -LRB- for '(', `` and '' quotes, -- for dashes, '...' for
ellipses, currency normalisation, splitAssimilations) and tokenizeNLs (-preserveLines); -lowerCase
lowercases every token afterwards (Java's toLowerCase(Locale.ENGLISH): "-LRB-" becomes "-lrb-",
which the wrapper's punctuation list, written in upper case, then does not remove).

The C++ port (src/eval/e2e_metrics.cpp, ptb_tokenize) uses the same rule table; the expected
values under tests/reference/e2e_metrics/ include this script's token lists so the two are checked
against each other. What is left out of PTBLexer is listed in README.md ("The PTB tokenizer emulation").

Usage as a fake `java` (generate.py puts a `java` wrapper first on PATH):
    ptb_emulation.py -cp JAR edu.stanford.nlp.process.PTBTokenizer -preserveLines -lowerCase FILE
or as a module: tokenize_stream(text) -> list of lines, each a list of tokens.
"""
import re
import sys

# --- character classes (Python `re` syntax; the C++ port writes \uXXXX as \x{XXXX} for PCRE2) ---
# [:letter:]: word characters that are not digits or '_' (fraction characters are not letters).
L = r"[^\W\d_\u00BC-\u00BE\u2153-\u215E]"
D = r"\d"
AN = r"[^\W_\u00BC-\u00BE\u2153-\u215E]"  # \p{Alpha}\p{Digit}
NONALPHA = r"[\W\d_\u00BC-\u00BE\u2153-\u215E]"  # [^\p{Alpha}]: one character that is no letter
APOS = r"(?:['\u0092\u2019\u00B4]|&apos;)"
APOSETC = r"(?:['\u0092\u2019\u00B4`\u0091\u2018\u201B]|&apos;)"
SPACE = r"[ \t\u00A0\u2000-\u200A\u3000]"
SPACENL = r"[ \t\u00A0\u2000-\u200A\u3000\n]"
NOT_SPACENL = r"[^ \t\u00A0\u2000-\u200A\u3000\n]"
WORD = rf"{L}(?:{L}|{D})*(?:[.!?]{L}(?:{L}|{D})*)*"
REDAUX = rf"{APOS}(?:[msdMSD]|(?i:re|ve|ll))"
SWORD = rf"{L}*[A-MO-Za-mo-z]"
SREDAUX = rf"(?i:n){APOSETC}(?i:t)"
NUM_A = rf"{D}*(?:[.,]{D}+)+"
NUM_B = rf"{D}+(?:[.:,]{D}+)*"
ACRO = r"(?:(?i:Canada|Sino|Korean|EU|Japan|non)-(?i:U\.S)|(?i:U\.S\.-)(?:(?i:U\.K)|(?i:U\.S\.S\.R))|[A-Za-z](?:\.[A-Za-z])*)"
ACRO2 = r"(?:(?i:Canada|Sino|Korean|EU|Japan|non)-(?i:U\.S)|(?i:U\.S\.-)(?:(?i:U\.K)|(?i:U\.S\.S\.R))|[A-Za-z](?:\.[A-Za-z])+)"
ABMONTH = r"(?i:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)"
ABDAYS = r"(?i:Mon|Tues|Tue|Wed|Thurs|Thu|Fri)"
ABSTATE = (r"(?:(?i:Ala|Ariz)|[A](?i:z)|[A](?i:rk)|(?i:Calif|Colo|Conn|Ct|Dak)|[D](?i:el)|(?i:Fla|Ga)|[I](?i:ll)"
           r"|(?i:Ind|Kans|Kan|Ky)|[L](?i:a)|[M](?i:ass)|(?i:Md|Mich|Minn)|[M](?i:iss)|(?i:Mo|Mont|Neb|Nev|Okla)"
           r"|[O](?i:re)|[P](?i:a)|(?i:Penn|Tenn)|[T](?i:ex)|(?i:Va|Vt)|[W](?i:ash)|(?i:Wisc|Wis|Wyo))")
ABCOMP = r"(?:(?i:Inc|Cos|Co|Corp)|(?i:pp|p)(?i:t)[ye](?i:s)?|(?i:Ltd|Plc|Rt|Bancorp|Bhd|Assn|Univ|Intl|Sys))"
ABNUM = r"(?i:tel|est|ext|sq)"
ABPTIT = r"(?i:Jr|Bros|Ed\.D|Ph\.D|Esq)"
ABBREV1 = rf"(?:{ABMONTH}|{ABDAYS}|{ABSTATE}|{ABCOMP}|{ABNUM}|{ABPTIT}|(?i:etc|al|seq|Bldg))\."
ABTITLE = (r"(?:(?i:Mrs|Mr|Ms|Mx)|[M](?i:iss)|(?i:Drs|Dr|Profs|Prof|Sens|Sen|Reps|Rep|Attys|Atty|Lt|Col|Gen"
           r"|Messrs|Govs|Gov|Adm|Rev|Maj|Sgt|Cpl|Pvt|Capt|Ste|St|Ave|Pres|Lieut|Rt|Hon|Brig|Comdr|Cmdr|Pfc|Spc"
           r"|Supts|Supt|Det|Mt|Ft|Adj|Adv|Asst|Assoc|Ens|Insp|Mlle|Mme|Msgr|Sfc|Sr))")
ABCOMP2 = r"(?:(?i:Invt|Elec|Natl)|(?i:m)[ft](?i:g)|(?i:Dept|Blvd|Rd|Ave))"
ABBREV4 = rf"(?:{ABTITLE}|(?i:vs)|[v]|(?i:Alex|Wm|Jos|Cie|a\.k\.a|cf|TREAS|Ph)|{ACRO}|{ABCOMP2})"
ACRO_FOLLOWERS = ("About According Additionally After An A As At But Did During Earlier He Her Here How However "
                  "If In It Last Many More Mr. Ms. Now Once One Other Our She Since So Some Such That The Their "
                  "Then There These They This We When While What Who Why Yet You").split()
FOLLOW = "(?:" + "|".join(f"[{w[0]}](?i:{re.escape(w[1:])})" if len(w) > 1 else f"[{w}]"
                          for w in sorted(ACRO_FOLLOWERS, key=len, reverse=True)) + ")"
QUOTES = r"(?:[`\u2018-\u201F\u0082\u0084\u0091-\u0094\u2039\u203A\u00AB\u00BB]{1,2}|" + APOS + ")"
DBLQUOT = r"(?:\"|&quot;|[`'\u0091\u0092\u2018\u2019]')"
HYPHEN = r"[-_\u058A\u2010\u2011]"
THING_PRE = rf"(?:[dDoOlL]{APOSETC}{AN})?"
MISCSYMBOL = (r"[+%&~\^|\\\u00A6\u00A7\u00A8\u00A9\u00AC\u00AE\u00AF\u00B0-\u00B3\u00B4-\u00BA\u00D7\u00F7"
              r"\u0387\u05BE\u05C0\u05C3\u05C6\u05F3\u05F4\u0600-\u0603\u0606-\u060A\u060C\u0614\u061B"
              r"\u061E\u066A\u066D\u0703-\u070D\u07F6\u07F7\u07F8\u0964\u0965\u0E4F\u1FBD\u2016\u2017"
              r"\u2020-\u2025\u2030-\u2038\u203B\u203C\u2043\u203E-\u2042\u2044\u207A-\u207F\u208A-\u208E"
              r"\u2100-\u214F\u2190-\u21FF\u2200-\u2BFF\u3001-\u3006\u3008-\u3020\u30FB\uFF01-\uFF0F"
              r"\uFF1A-\uFF20\uFF3B-\uFF40\uFF5B-\uFF65]")

# (name, main expression, trailing context or None, action); order = PTBLexer.flex rule order.
RULES = [
    ("ASSIMILATIONS3", r"(?i:cannot|'twas|dunno)", None, "push3"),
    ("ASSIMILATIONS2", rf"(?:{APOS}(?i:tis)|(?i:gonna|gotta|lemme|gimme|wanna|nno))", None, "push2"),
    ("SPMDASH", r"(?:&(?i:MD|mdash|ndash);|[\u0096\u0097\u2013\u2014\u2015])", None, "dash"),
    ("SPAMP", r"(?i:&amp;)", None, "amp"),
    ("SPPUNC", r"&(?:(?i:HT|TL|UR|LR|QC|QL|QR|odq|cdq)|#[0-9]+);", None, "keep"),
    ("WORD/REDAUX", WORD, REDAUX, "keep"),
    ("SWORD/SREDAUX", SWORD, SREDAUX, "keep"),
    ("WORD", WORD, None, "keep"),
    ("APOWORD1", rf"{APOS}(?i:n){APOS}?", None, "quote_r"),
    ("APOWORD2", rf"[lLdDjJ]{APOS}", None, "quote_r"),
    ("APOWORD3", rf"(?:(?i:dunkin|somethin|ol){APOS}|{APOS}(?i:em)|(?i:diff){APOSETC}(?i:rent))", None, "quote_r"),
    ("APOWORD4", rf"[A-HJ-XZn]{APOSETC}{L}{{2}}{L}*", None, "quote_r"),
    ("APOWORD5", rf"(?:{APOS}[2-9]0(?i:s)|{APOS}(?i:till|til)|{APOS}(?i:cause))", None, "quote_r"),
    ("APOWORD6", rf"{L}{L}*[aeiouyAEIOUY]{APOSETC}[aeiouA-Z]{L}*", None, "quote_r"),
    ("APOWORD7", r"(?i:cont'd\.|cont'd|nor'easter|c'mon|e'er|s'mores|ev'ry|li'l|nat'l)", None, "quote_r"),
    ("APOWORD8", rf"(?i:o){APOSETC}(?i:o)", None, "quote_r"),
    ("APOWORD2b", rf"(?i:y){APOS}", L, "keep"),
    ("REDAUX/nonalpha", REDAUX, NONALPHA, "quote_r"),
    ("SREDAUX/nonalpha", SREDAUX, NONALPHA, "quote_r"),
    ("DATE", rf"{D}{{1,2}}[\-\/]{D}{{1,2}}[\-\/]{D}{{2,4}}", None, "keep"),
    ("NUMBER_A", rf"[\-+]?{NUM_A}", None, "keep"),
    ("NUMBER_B", rf"[\-+]?{NUM_B}", None, "keep"),
    ("FRAC", rf"(?:{D}{{1,4}}[- \u00A0])?{D}{{1,4}}(?:\\?\/|\u2044){D}{{1,4}}", None, "nbsp"),
    ("FRAC2", r"[\u00BC\u00BD\u00BE\u2153-\u215E]", None, "frac2"),
    ("TBSPEC", rf"(?:(?i:-RRB-|-LRB-|-RCB-|-LCB-|-RSB-|-LSB-|C\.D\.s|pro-|anti-|S&P-500|S&amp;P-500|S&Ls|S&amp;Ls)"
               rf"|(?i:cap){APOS}(?i:n)|(?i:c){APOS}(?i:est))", None, "amp"),
    ("BANGWORDS", r"(?i:Yahoo|Jeopardy|E)!", None, "keep"),
    ("THING3", rf"{AN}+(?:-{L}+){{0,2}}(?:\\?\/{AN}+(?:-{L}+){{0,2}}){{1,2}}", None, "keep"),
    ("DOLSIGN", r"(?:[A-Z]*\$|#)", None, "keep"),
    ("DOLSIGN2", r"[\u00A2\u00A3\u00A4\u00A5\u0080\u20A0\u20AA\u20AC\u20B9\u060B\u0E3F\u20A4\uFFE0\uFFE1\uFFE5\uFFE6]",
     None, "currency"),
    ("ACRONYM/follower", rf"{ACRO}\.", rf"{SPACENL}+{FOLLOW}(?:{SPACENL}|[?!])", "acronym"),
    ("ABBREV3", r"(?:(?i:ca|figs|fig|prop|nos|no|sects|sect|secs|sec|arts|art|paras|para|bldg|pp|op|approx|rs)|[P][t])\.",
     rf"{SPACENL}?{D}", "keep"),
    ("ABBREVSN", r"(?i:So|No)\.", rf"{SPACENL}+(?i:Africa|Korea|Cal)", "keep"),
    ("PTY", r"(?:(?i:pt)[eyEY]|(?i:co))\.", rf"{SPACE}(?i:ltd|lim)", "keep"),
    ("ABBREV1/2chars", ABBREV1, r"[\s\S][\s\S]", "keep"),
    ("ABBREV1", ABBREV1, None, "keep"),
    ("ABBREV2", rf"{ABBREV4}\.", None, "keep"),
    ("TBSPEC2", rf"{APOS}[0-9][0-9]", SPACENL, "keep"),
    ("DEGREES", r"\u00B0[CcFf]", None, "keep"),
    ("WORD./INSENTP", rf"{WORD}\.", r"[,;:\u3001]", "keep"),
    ("PHONE1", r"(?:\([0-9]{2,3}\)[ \u00A0]?|(?:\+\+?)?(?:[0-9]{2,4}[\- \u00A0])?[0-9]{2,4}[\- \u00A0])"
               r"[0-9]{3,4}[\- \u00A0]?[0-9]{3,5}", None, "phone"),
    ("PHONE2", r"(?:(?:\+\+?)?[0-9]{2,4}\.)?[0-9]{2,4}\.[0-9]{3,4}\.[0-9]{3,5}", None, "phone"),
    ("DBLQUOT/left", DBLQUOT, rf"(?:{AN}|\$)", "quote_l"),
    ("DBLQUOT", DBLQUOT, None, "quote_r"),
    ("DEL", r"\x7F", None, "skip"),
    ("LESSTHAN", r"(?:<|&lt;)", None, "lt"),
    ("GREATERTHAN", r"(?:>|&gt;)", None, "gt"),
    ("SMILEY", r"[<>]?[:;=][\-o\*']?[\(\)DPdpO\\{@\|\[\]]", r"[\W_]", "parens"),
    ("LCB", r"\{", None, "-LCB-"),
    ("RCB", r"\}", None, "-RCB-"),
    ("LSB", r"\[", None, "-LSB-"),
    ("RSB", r"\]", None, "-RSB-"),
    ("LRB", r"\(", None, "-LRB-"),
    ("RRB", r"\)", None, "-RRB-"),
    ("HYPHENS", r"\-+", None, "hyphens"),
    ("LDOTS/dot", r"(?:\.\.\.+|[\u0085\u2026])", rf"\.{SPACENL}+{L}", "ldots"),
    ("SPACEDLDOTS/dot", r"\.[ \u00A0](?:\.[ \u00A0])+\.", rf"{SPACE}\.{SPACENL}+{L}", "ldots"),
    ("LDOTS", r"(?:\.\.\.+|[\u0085\u2026]|\.[ \u00A0](?:\.[ \u00A0])+\.)", None, "ldots"),
    ("FNMARKS", r"(?:@+|#+|_+)", None, "keep"),
    ("ASTS", r"(?:\*+|(?:\\\*){1,3})", None, "keep"),
    ("INSENTP", r"[,;:\u3001]", None, "keep"),
    ("QMARKS", r"[?!]+", None, "keep"),
    ("PERIOD", r"[.\u00A1\u00BF\u037E\u0589\u061F\u06D4\u0700-\u0702\u07FA\u3002]", None, "keep"),
    ("EQUALS", r"=+", None, "keep"),
    ("SLASH", r"\/", None, "keep"),
    ("HTHING", rf"{AN}(?:{AN}|[.,])*(?:-(?:{ACRO2}\.|{AN}+(?:\.{D}+)?))+", None, "keep"),
    ("HTHING./INSENTP", rf"{AN}(?:{AN}|[.,])*(?:-(?:{ACRO2}\.|{AN}+(?:\.{D}+)?))+\.", r"[,;:\u3001]", "keep"),
    ("THING", rf"{THING_PRE}(?:{AN}+|[\-+]?{NUM_A}|[\-+]?{NUM_B})(?:{HYPHEN}{THING_PRE}(?:{AN}+|{NUM_A}|{NUM_B}))*",
     None, "quote_r"),
    ("THINGA./INSENTP", r"[A-Z]+(?:(?:[+&]|&amp;)[A-Z]+)+\.", r"[,;:\u3001]", "amp"),
    ("THINGA", r"[A-Z]+(?:(?:[+&]|&amp;)[A-Z]+)+", None, "amp"),
    ("QUOTES/letter", QUOTES, rf"{L}{NOT_SPACENL}", "quote_l"),
    ("QUOTES/aiu", QUOTES, rf"[AaIiUu]{SPACENL}", "quote_l"),
    ("QUOTES", QUOTES, None, "quote_r"),
    ("REDAUX", REDAUX, None, "quote_r"),
    ("SREDAUX", SREDAUX, None, "quote_r"),
    ("FAKEDUCKFEET", r"(?:<<|>>)", None, "keep"),
    ("MISCSYMBOL", MISCSYMBOL, None, "keep"),
    ("SPACES", r"(?:[\0\u200B\u200E\u200F\uFEFF]|[ \t\u00A0\u2000-\u200A\u3000]+|(?i:&nbsp;))", None, "skip"),
    ("NEWLINE", r"\n", None, "newline"),
]

COMPILED = [(name, re.compile(f"({main})({trail})" if trail else f"({main})()"), action)
            for name, main, trail, action in RULES]


def latex_quotes(tok, left):
    """PTBLexer.latexQuotes: straight quotes by the guessed side, curly ones by their own."""
    tok = re.sub(r"&apos;|'", "`" if left else "'", tok)
    tok = re.sub(r"\"|''|'`|`'|&quot;", "``" if left else "''", tok)
    tok = re.sub("[\u0082\u008B\u0091\u2018\u201A\u201B\u2039]", "`", tok)
    tok = re.sub("[\u0092\u009B\u00B4\u2019\u203A]", "'", tok)
    tok = re.sub("[\u0084\u0093\u201C\u201E\u00AB]|[\u0091\u2018]'", "``", tok)
    tok = re.sub("[\u0094\u201D\u00BB]|[\u0092\u2019]'", "''", tok)
    return tok


FRACTIONS = {"\u00BC": "1/4", "\u00BD": "1/2", "\u00BE": "3/4", "\u2153": "1/3", "\u2154": "2/3"}


def act(action, tok):
    """The token(s) a rule makes from its match `tok` (without trailing context)."""
    if action == "keep":
        return [tok]
    if action == "dash":
        return ["--"]
    if action == "amp":
        return [re.sub(r"(?i:&amp;)", "&", tok)]
    if action == "quote_r":
        return [latex_quotes(tok, False)]
    if action == "quote_l":
        return [latex_quotes(tok, True)]
    if action == "nbsp":
        return [tok.replace(" ", "\u00A0")]
    if action == "frac2":
        return [FRACTIONS.get(tok, tok)]
    if action == "currency":
        tok = tok.replace("\u00A2", "cents").replace("\u00A3", "#")
        return [re.sub("[\u0080\u00A4\u20A0\u20AC]", "$", tok)]
    if action == "phone":
        return [tok.replace(" ", "\u00A0").replace("(", "-LRB-").replace(")", "-RRB-")]
    if action == "parens":
        return [tok.replace("(", "-LRB-").replace(")", "-RRB-")]
    if action == "acronym":  # processAcronym: "I." -> "I" "."; "U.S." -> "U.S." "."
        return [tok[:-1], "."] if len(tok) == 2 else [tok, "."]
    if action == "lt":
        return ["<"]
    if action == "gt":
        return [">"]
    if action == "hyphens":
        return ["--" if 3 <= len(tok) <= 4 else tok]
    if action == "ldots":
        return ["..."]
    if action.startswith("-"):
        return [action]
    raise ValueError(action)


def tokenize_stream(text, trace=None):
    """PTB tokens of `text` (lines separated by '\\n'), lowercased, one list per input line."""
    lines = [[]]
    pos = 0
    n = len(text)
    while pos < n:
        best = None  # (total length, rule index, match)
        for idx, (name, rx, action) in enumerate(COMPILED):
            m = rx.match(text, pos)
            if m is None:
                continue
            total = m.end() - pos
            if total > 0 and (best is None or total > best[0]):
                best = (total, idx, m)
        if best is None:  # untokenizable: PTBLexer deletes it (untokenizable=firstDelete)
            pos += 1
            continue
        _, idx, m = best
        name, _, action = COMPILED[idx]
        tok = m.group(1)
        if trace is not None:
            trace.append((name, tok))
        if action == "push3" or action == "push2":
            keep = len(tok) - (3 if action == "push3" else 2)
            lines[-1].append(tok[:keep])
            pos += keep
            continue
        pos += len(tok)
        if action == "skip":
            continue
        if action == "newline":
            lines.append([])
            continue
        lines[-1].extend(act(action, tok))
    return [[t.lower() for t in line] for line in lines]


def main(argv):
    path = argv[-1]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    out = tokenize_stream(text)
    sys.stdout.write("\n".join(" ".join(line) for line in out))


if __name__ == "__main__":
    main(sys.argv)
