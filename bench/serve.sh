#!/usr/bin/env bash
# peft serve under load (BENCHMARKS.md "Serving"): 8 concurrent clients, each request of a
# client naming its own adapter, against three ways of serving them:
#   mixed   --max-batch 8: rows of different adapters share each decode step (this issue's batching)
#   same    --max-batch 8, every client on one adapter: the same batching without mixing (its cost)
#   serial  --max-batch 1: one request at a time, what a server that batches only requests of the
#           same adapter does when each request names another one
# on (1) the real stories260K with 8 adapters of 7 methods (LoRA, IA3, bottleneck, prompt and prefix
# tuning, AdaLink, AdaMix), 16 requests of 128 new tokens per client, and (2) the Llama-3.2-1B shape (random
# weights, a GGUF file, bf16 base) with 8 LoRA r=16 adapters on q,k,v,o, 2 requests of 32 new
# tokens per client — and there llama.cpp (node-llama-cpp) on the same file and adapters (GGUF
# LoRAs), a context per adapter and one shared context (llama_cpp_lora_serve.mjs).
#
#   bench/serve.sh [--parts "1 2"] [--work /tmp/peft-serve-bench] [--threads 2]
#
# Prints one JSON line per run (serve_load.py) and the machine load before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
parts="1 2" work=/tmp/peft-serve-bench threads=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --parts) parts=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "serve.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
peft=$PWD/build/bin/peft
shared=${PEFT_SHARED_DIR:-$PWD/../shared}
clients=${PEFT_CLIENTS_DIR:-$HOME/.cache/peft.cpp/clients}
export OMP_NUM_THREADS=$threads
mkdir -p "$work"
boolq=$shared/data/datasets/llm_adapters/dataset/boolq/train.json
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

server_pid=
stop_server() { [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; server_pid=; }
trap stop_server EXIT
# serve MODEL MAX_BATCH [peft serve flags...]: starts it, sets $url.
serve() {
  local model=$1 batch=$2; shift 2
  stop_server
  "$peft" serve --model "$model" --max-batch "$batch" --port 0 "$@" 2>"$work/serve.log" &
  server_pid=$!
  for _ in $(seq 600); do
    url=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$work/serve.log")
    [[ -n $url ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "serve.sh: the server did not start" >&2; exit 1
}
load() { /usr/bin/python3 bench/baselines/serve_load.py --url "$url" --clients 8 "$@"; }

if [[ " $parts " == *" 1 "* ]]; then
  m=$work/stories260K
  [[ -d $m ]] || "$peft" convert --from llama2c --checkpoint "$shared/data/models/stories260K/stories260K.bin" \
    --tokenizer "$shared/data/models/stories260K/tok512.model" --out "$m" >/dev/null
  mkdir -p "$work/adapters"
  train() {  # name, method flags...
    [[ -d $work/adapters/$1 ]] && return 0
    local name=$1; shift
    "$peft" train --model "$m" --data "$boolq" --output "$work/adapters/$name" --max-steps 10 --batch-size 8 \
      --micro-batch-size 8 --val-set-size 0 --learning-rate 1e-2 "$@" >/dev/null 2>&1
  }
  train lora; train lora2 --seed 2; train ia3 --method ia3; train bottleneck --method bottleneck
  train prompt --method prompt; train prefix --method prefix; train adalink --method adalink
  train adamix --method adamix
  all=lora,lora2,ia3,bottleneck,prompt,prefix,adalink,adamix
  serve "$m" 8 --adapter-dir "$work/adapters"
  load --models "$all" --requests 16 --max-tokens 128 --label "stories260K warm-up" >/dev/null
  load --models "$all" --requests 16 --max-tokens 128 --label "stories260K mixed (8 adapters, 7 methods)"
  load --models lora --requests 16 --max-tokens 128 --label "stories260K same (one LoRA)"
  load --models "" --requests 16 --max-tokens 128 --label "stories260K base"
  serve "$m" 1 --adapter-dir "$work/adapters"
  load --models "$all" --requests 16 --max-tokens 128 --label "stories260K serial (max-batch 1)"
fi

if [[ " $parts " == *" 2 "* ]]; then
  g=$work/l1b-F16.gguf
  [[ -f $g ]] || PYTHONPATH="$clients/llama.cpp/gguf-py" /usr/bin/python3 bench/baselines/random_gguf.py \
    --shape llama3.2-1b --type F16 --out "$g"
  mkdir -p "$work/l1b-adapters"
  if [[ ! -d $work/l1b-adapters/a0 ]]; then  # one LoRA trained a step, in 8 copies (8 adapters to the server)
    "$peft" train --model "$g" --base-dtype bf16 --data "$boolq" --output "$work/l1b-adapters/a0" --max-steps 1 \
      --batch-size 1 --micro-batch-size 1 --cutoff-len 32 --val-set-size 0 --lora-r 16 \
      --target-modules q_proj,k_proj,v_proj,o_proj >/dev/null 2>&1
    for i in 1 2 3 4 5 6 7; do cp -r "$work/l1b-adapters/a0" "$work/l1b-adapters/a$i"; done
  fi
  all=a0,a1,a2,a3,a4,a5,a6,a7
  serve "$g" 8 --adapter-dir "$work/l1b-adapters" --base-dtype bf16 --max-loaded-adapters 8
  load --models "$all" --requests 1 --max-tokens 8 --label "llama3.2-1b warm-up" >/dev/null
  load --models "$all" --requests 2 --max-tokens 32 --label "llama3.2-1b mixed (8 LoRA)"
  load --models a0 --requests 2 --max-tokens 32 --label "llama3.2-1b same (one LoRA)"
  serve "$g" 1 --adapter-dir "$work/l1b-adapters" --base-dtype bf16 --max-loaded-adapters 8
  load --models "$all" --requests 2 --max-tokens 32 --label "llama3.2-1b serial (max-batch 1)"
  stop_server
  # llama.cpp on the same file with the same adapters as GGUF LoRAs: a context per adapter
  # (its contexts batch only their own sequences), and one context of 8 sequences on one adapter.
  if [[ -x $clients/node && -d $clients/llama/node_modules ]]; then
    mkdir -p "$work/node"
    [[ -e $work/node/node_modules ]] || ln -s "$clients/llama/node_modules" "$work/node/node_modules"
    cp bench/baselines/llama_cpp_lora_serve.mjs "$work/node/"
    [[ -f $work/l1b-a0.gguf ]] || "$peft" export --format gguf-lora --model "$g" --adapter "$work/l1b-adapters/a0" \
      --out "$work/l1b-a0.gguf" >/dev/null 2>&1
    loras=$work/l1b-a0.gguf
    for i in 1 2 3 4 5 6 7; do
      [[ -f $work/l1b-a$i.gguf ]] || cp "$work/l1b-a0.gguf" "$work/l1b-a$i.gguf"
      loras+=",$work/l1b-a$i.gguf"
    done
    for mode in per-adapter shared; do
      "$clients/node" "$work/node/llama_cpp_lora_serve.mjs" "$g" "$loras" $mode 8 2 32 "$threads"
    done
  fi
fi
stop_server
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
