#!/usr/bin/env bash
# Interop with llama.cpp itself: peft's GGUF export of stories260K, decoded greedily by llama.cpp
# (node-llama-cpp's prebuilt CPU binaries), must give the same 60 tokens as `peft generate`.
# Usage: tests/interop/llama_cpp_greedy.sh [PEFT_BINARY]   (default build/bin/peft)
# Env: PEFT_CLIENTS_DIR: the folder scripts/setup_clients filled (its node and node-llama-cpp
# are used, and a missing one fails the test); else NODE_LLAMA_CPP_DIR (a folder where
# node-llama-cpp is installed; node from PATH); PEFT_SHARED_DIR (default ../shared).
# Prints PASS / FAIL (exit 0 / 1), or SKIP (exit 77) when npm or the package is unavailable
# and PEFT_CLIENTS_DIR is not set.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PEFT=${1:-$ROOT/build/bin/peft}
SHARED=${PEFT_SHARED_DIR:-$ROOT/../shared}
PROMPT="Once upon a time"
N=60

fail() { echo "FAIL: $*"; exit 1; }
skip() { [ -n "${PEFT_CLIENTS_DIR:-}" ] && fail "$* (scripts/setup_clients installs it)"; echo "SKIP: $*"; exit 77; }
# The clients scripts/setup_clients installed (or, by hand, NODE_LLAMA_CPP_DIR + node on PATH);
# nothing is installed at run time.
NODE=node
if [ -n "${PEFT_CLIENTS_DIR:-}" ]; then
  NODE="$PEFT_CLIENTS_DIR/node"
  NODE_LLAMA_CPP_DIR="$PEFT_CLIENTS_DIR/llama"
fi
NLC=${NODE_LLAMA_CPP_DIR:-}
[ -n "$NLC" ] && [ -d "$NLC/node_modules/node-llama-cpp" ] || skip "node-llama-cpp not installed (PEFT_CLIENTS_DIR or NODE_LLAMA_CPP_DIR)"
command -v "$NODE" >/dev/null 2>&1 || skip "node not available"
[ -x "$PEFT" ] || fail "peft binary not found at $PEFT (build it first)"
[ -f "$SHARED/data/models/stories260K/stories260K.bin" ] || fail "stories260K not found under $SHARED"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# The script resolves node-llama-cpp from its own folder.
cp "$HERE/llama_cpp_greedy.mjs" "$TMP/"
[ -e "$TMP/node_modules" ] || ln -s "$NLC/node_modules" "$TMP/node_modules"

MODEL=$TMP/stories260K
"$PEFT" convert --from llama2c --checkpoint "$SHARED/data/models/stories260K/stories260K.bin" \
  --tokenizer "$SHARED/data/models/stories260K/tok512.model" --out "$MODEL" 2>"$TMP/err" || fail "convert: $(cat "$TMP/err")"
"$PEFT" export --format gguf --model "$MODEL" --out "$TMP/stories260K.gguf" 2>"$TMP/err" || fail "export: $(cat "$TMP/err")"
PROMPT_IDS=$(printf '%s\n' "$PROMPT" | "$PEFT" tokenize --model "$MODEL") || fail "tokenize"
PEFT_TEXT=$("$PEFT" generate --model "$MODEL" --prompt "$PROMPT" --temperature 0 --max-new-tokens $N 2>/dev/null) \
  || fail "peft generate"

if ! "$NODE" "$TMP/llama_cpp_greedy.mjs" "$TMP/stories260K.gguf" "$PROMPT" "$PROMPT_IDS" $N >"$TMP/llama.json" 2>"$TMP/node.err"; then
  tail -20 "$TMP/node.err"
  fail "llama.cpp (node-llama-cpp) could not run the exported GGUF"
fi
field() { "$NODE" -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const v = j[process.argv[2]]; console.log(Array.isArray(v) ? v.join(" ") : v);' "$TMP/llama.json" "$1"; }
LLAMA_PROMPT_IDS=$(field llama_prompt_ids)
GENERATED=$(field generated_ids)
# The same detokenizer for both sides: peft decodes llama.cpp's ids.
LLAMA_TEXT=$(printf '[[%s]]' "$(echo $PROMPT_IDS $GENERATED | tr ' ' ',')" | "$PEFT" tokenize --model "$MODEL" --decode --json \
  | "$NODE" -e 'let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => process.stdout.write(JSON.parse(s)[0]));')

echo "node-llama-cpp $("$NODE" -p "require('$NLC/node_modules/node-llama-cpp/package.json').version") (llama.cpp prebuilt, CPU)"
echo "prompt ids (peft):      $PROMPT_IDS"
echo "prompt ids (llama.cpp): $LLAMA_PROMPT_IDS"
echo "llama.cpp ids:          $GENERATED"
echo "llama.cpp text:         $(field text)"
echo "peft text:              $PEFT_TEXT"
[ "$PROMPT_IDS" = "$LLAMA_PROMPT_IDS" ] || fail "llama.cpp tokenizes the prompt differently"
[ "$(echo $GENERATED | wc -w)" -gt 0 ] || fail "llama.cpp generated nothing"
[ "$LLAMA_TEXT" = "$PEFT_TEXT" ] || fail "greedy continuations differ"
echo "PASS: llama.cpp and peft agree on $(echo $GENERATED | wc -w) greedy tokens"
