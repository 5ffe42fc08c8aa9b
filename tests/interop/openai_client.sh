#!/usr/bin/env bash
# `peft serve` as OpenAI's Node.js SDK (npm openai, installed by scripts/setup_clients) sees it:
# stories260K converted, a LoRA trained for a few steps, the server started on a free port with
# a chat template, and tests/interop/openai_client.mjs run against it with the texts `peft
# generate` prints for the same requests.
# Usage: tests/interop/openai_client.sh [PEFT_BINARY]   Env: PEFT_CLIENTS_DIR, PEFT_SHARED_DIR.
# PASS / FAIL (exit 0 / 1), or SKIP (77) without the client when PEFT_CLIENTS_DIR is unset.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PEFT=${1:-$ROOT/build/bin/peft}
SHARED=${PEFT_SHARED_DIR:-$ROOT/../shared}
fail() { echo "FAIL: $*"; exit 1; }
skip() { [ -n "${PEFT_CLIENTS_DIR:-}" ] && fail "$* (scripts/setup_clients installs it)"; echo "SKIP: $*"; exit 77; }
CLIENTS=${PEFT_CLIENTS_DIR:-$HOME/.cache/peft.cpp/clients}
NODE=$CLIENTS/node
[ -x "$NODE" ] || skip "node not installed in $CLIENTS"
[ -f "$CLIENTS/openai/node_modules/openai/package.json" ] || skip "npm openai not installed in $CLIENTS/openai"

TMP=$(mktemp -d)
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
"$PEFT" convert --from llama2c --checkpoint "$SHARED/data/models/stories260K/stories260K.bin" \
  --tokenizer "$SHARED/data/models/stories260K/tok512.model" --out "$TMP/stories260K" >/dev/null 2>&1 || fail "convert"
mkdir -p "$TMP/adapters"
"$PEFT" train --model "$TMP/stories260K" --data "$SHARED/data/datasets/llm_adapters/dataset/boolq/train.json" \
  --output "$TMP/adapters/lora" --max-steps 20 --batch-size 8 --micro-batch-size 8 --learning-rate 1e-2 \
  --val-set-size 0 --seed 1 >/dev/null 2>&1 || fail "train"
TEMPLATE="$SHARED/data/chat_templates/templates/Qwen-Qwen2.5-7B-Instruct.jinja"
PROMPT="Once upon a time"
CHAT="Tell me a story"
N=40
gen() { "$PEFT" generate --model "$TMP/stories260K" --max-new-tokens $N "$@" 2>/dev/null; }
base=$(gen --prompt "$PROMPT") || fail "generate"
lora=$(gen --prompt "$PROMPT" --adapter "$TMP/adapters/lora") || fail "generate --adapter"
chat=$(gen --prompt "$CHAT" --adapter "$TMP/adapters/lora" --chat-template "$TEMPLATE") || fail "generate --chat"
"$NODE" -e '
const [out, prompt, chat_prompt, n, base, lora, chat] = process.argv.slice(1);
require("fs").writeFileSync(out, JSON.stringify({base: "stories260K", prompt, chat_prompt, n: Number(n),
  base_text: base.slice(prompt.length), lora_text: lora.slice(prompt.length), chat_text: chat}));' \
  "$TMP/expected.json" "$PROMPT" "$CHAT" $N "$base" "$lora" "$chat" || fail "expected.json"

"$PEFT" serve --model "$TMP/stories260K" --adapter-dir "$TMP/adapters" --chat-template "$TEMPLATE" --port 0 \
  2>"$TMP/serve.log" &
SERVER=$!
for _ in $(seq 100); do
  PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$TMP/serve.log")
  [ -n "$PORT" ] && break
  kill -0 "$SERVER" 2>/dev/null || fail "peft serve exited: $(cat "$TMP/serve.log")"
  sleep 0.1
done
[ -n "$PORT" ] || fail "peft serve did not start"
"$NODE" "$HERE/openai_client.mjs" "$CLIENTS/openai" "http://127.0.0.1:$PORT/v1" "$TMP/expected.json"
