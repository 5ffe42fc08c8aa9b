#!/usr/bin/env bash
# Inference against llama.cpp on the same GGUF files (BENCHMARKS.md "Inference against
# llama.cpp"): prompt processing and batch-1 greedy decode, peft.cpp (`peft bench generate
# --model FILE`) and llama.cpp (node-llama-cpp's prebuilt CPU build, bench/baselines/
# llama_cpp_decode.mjs) alternating, two runs each, same thread count; peft.cpp's batch-16
# decode (`peft eval`'s path) beside them, from its first run.
#
#   bench/inference.sh [--shapes "stories260k gpt2-124m llama3.2-1b"] [--types "F32 BF16 F16 Q8_0"]
#                      [--prompt 512] [--tokens 64] [--work /tmp/peft-inference-bench] [--threads 2]
#
# Files: stories260K is the real model (llama2c checkpoint converted, then `peft export`);
# GPT-2 124M and Llama-3.2-1B are random F16 files of the real shapes (bench/baselines/
# random_gguf.py), re-typed by `peft export --type`. The prompt is min(--prompt, context −
# --tokens) random tokens (stories260K's context is 512: 448). Needs the clients
# (scripts/setup_clients: node-llama-cpp, llama.cpp's gguf-py). Prints the load before and after
# and, per row, others' CPU (timed.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
shapes="stories260k gpt2-124m llama3.2-1b" types="F32 BF16 F16 Q8_0"
prompt=512 tokens=64 work=/tmp/peft-inference-bench threads=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --shapes) shapes=$2; shift 2 ;;
    --types) types=$2; shift 2 ;;
    --prompt) prompt=$2; shift 2 ;;
    --tokens) tokens=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) sed -n 2,16p "$0"; exit 0 ;;
    *) echo "inference.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
peft=$PWD/build/bin/peft
clients=${PEFT_CLIENTS_DIR:-$HOME/.cache/peft.cpp/clients}
[[ -x $clients/node && -d $clients/llama.cpp/gguf-py ]] || {
  echo "inference.sh: the clients are missing under $clients (run scripts/setup_clients)" >&2; exit 1; }
export OMP_NUM_THREADS=$threads
mkdir -p "$work/node"
[[ -e $work/node/node_modules ]] || ln -s "$clients/llama/node_modules" "$work/node/node_modules"
cp bench/baselines/llama_cpp_decode.mjs "$work/node/"
results=$work/results.jsonl errors=$work/errors.log others=$work/others.txt
: >"$results"; : >"$errors"; : >"$others"
source bench/timed.sh
tag() { echo "{\"shape\": \"$1\", \"type\": \"$2\", \"prompt\": $3}" >>"$results"; }

# The F16 (stories260K: F32) source of each shape, then one file per type.
source_file() {
  case "$1" in
    stories260k)
      [[ -d $work/stories260k ]] || "$peft" convert --from llama2c \
        --checkpoint ../shared/data/models/stories260K/stories260K.bin \
        --tokenizer ../shared/data/models/stories260K/tok512.model --out "$work/stories260k" >/dev/null
      echo "$work/stories260k" ;;
    *)
      local f=$work/$1-F16.gguf
      [[ -f $f ]] || PYTHONPATH="$clients/llama.cpp/gguf-py" /usr/bin/python3 bench/baselines/random_gguf.py \
        --shape "$1" --type F16 --out "$f" >&2
      echo "$f" ;;
  esac
}
context_of() { case "$1" in stories260k) echo 512 ;; gpt2-124m) echo 1024 ;; *) echo 8192 ;; esac; }
vocab_of() { case "$1" in stories260k) echo 512 ;; *) echo 30003 ;; esac; }  # prompt ids below it

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for shape in $shapes; do
  src=$(source_file "$shape")
  ctx=$(context_of "$shape")
  p=$(( prompt < ctx - tokens ? prompt : ctx - tokens ))
  for t in $types; do
    f=$work/$shape-$t.gguf
    [[ -f $f ]] || "$peft" export --format gguf --model "$src" --type "${t,,}" --out "$f" --overwrite >/dev/null 2>&1
    for rep in 1 2; do
      batch=$([[ $rep == 1 ]] && echo 16 || echo 0)
      echo "$shape $t peft.cpp ($rep) ..." >&2
      tag "$shape" "$t" "$p"
      timed "$peft" bench generate --model "$f" --prompt "$p" --tokens "$tokens" --batch "$batch" \
        --threads "$threads" --json
      echo "$shape $t llama.cpp ($rep) ..." >&2
      tag "$shape" "$t" "$p"
      timed "$clients/node" "$work/node/llama_cpp_decode.mjs" "$f" "$p" "$tokens" "$threads" "$(vocab_of "$shape")"
    done
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
[[ -s $errors ]] && grep -v "^$" "$errors" | tail -20 >&2

/usr/bin/python3 - "$results" "$others" "$threads" "$tokens" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
others = [int(o) for o in open(sys.argv[2]).read().split()]
runs = []  # (tag, result, others' CPU)
for i in range(0, len(lines), 2):
    runs.append((lines[i], lines[i + 1], others[len(runs)]))
table = {}
for tag, r, o in runs:
    if r.get("failed"):
        print(f"failed: {tag}", file=sys.stderr)
        continue
    row = table.setdefault((tag["shape"], tag["type"], tag["prompt"]), {"others": 0})
    row.setdefault(r["engine"], []).append(r)
    row["others"] = max(row["others"], o)
mean = lambda rs, k: sum(r[k] for r in rs) / len(rs)
print(f"\n{sys.argv[3]} threads, {sys.argv[4]} new tokens, greedy; mean of two runs each (peft.cpp, llama.cpp alternating)\n")
print("| shape | file | prompt | peft.cpp prompt tok/s | llama.cpp prompt tok/s | ratio | peft.cpp decode tok/s | "
      "llama.cpp decode tok/s | ratio | peft.cpp batch-16 decode tok/s | others' CPU |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for (shape, t, p), row in table.items():
    a, b = row.get("peft.cpp"), row.get("llama.cpp")
    if not a or not b:
        continue
    pa, pb = mean(a, "prompt_tokens_per_s"), mean(b, "prompt_tokens_per_s")
    da, db = mean(a, "decode_tokens_per_s"), mean(b, "decode_tokens_per_s")
    b16 = max(r.get("batched_decode_tokens_per_s", 0) for r in a)
    print(f"| {shape} | {t} | {p} | {pa:.1f} | {pb:.1f} | {pa / pb:.2f}x | {da:.1f} | {db:.1f} | {da / db:.2f}x | "
          f"{b16:.1f} | {row['others']}% |")
PY
