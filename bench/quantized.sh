#!/usr/bin/env bash
# Quantized bases, side by side (BENCHMARKS.md "Quantized bases"):
#   1. training tokens/s and peak RSS on the GPT-2 124M and Llama-3.2-1B shapes, bf16 base vs
#      q8_0, q4_0, q4_k, nf4 quantized at load, and (Llama) a Q6_K file from llama.cpp's quantizer;
#   2. the Llama-3.1-8B shape as a Q4_K(_M-like) GGUF file: LoRA r=16 on q,k,v,o, 1 x 512,
#      gradient checkpointing: peak RSS and tokens/s;
#   3. batch-1 decode, peft.cpp vs llama.cpp (node-llama-cpp) on the same Llama-3.2-1B GGUF files
#      (Q8_0, Q4_0, Q4_K_M, Q6_K, IQ4_XS from llama.cpp's quantizer), alternating, twice each;
#   4. stories260K LoRA on BoolQ, validation loss with F32, Q8_0 and Q4_0 bases (3 seeds);
#   5. merging into a quantized base: a LoRA trained on stories260K as a Q4_0 GGUF, kept separate
#      vs merged and stored at Q4_0, Q8_0, F16: perplexity on 300 BoolQ test records and the
#      merge's storage-error report.
#
#   bench/quantized.sh [--parts "1 2 3 4 5"] [--work /tmp/peft-quantized-bench] [--threads 2]
#
# Needs the clients (scripts/setup_clients: node-llama-cpp, llama.cpp's gguf-py) for parts 2-3.
# Prints the machine load before and after and, per run, others' CPU (timed.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
parts="1 2 3 4 5" work=/tmp/peft-quantized-bench threads=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --parts) parts=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "quantized.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
peft=$PWD/build/bin/peft
clients=${PEFT_CLIENTS_DIR:-$HOME/.cache/peft.cpp/clients}
export PEFT_CLIENTS_DIR=$clients OMP_NUM_THREADS=$threads
mkdir -p "$work"
results=$work/results.jsonl errors=$work/errors.log others=$work/others.txt
: >"$results"; : >"$errors"; : >"$others"
source bench/timed.sh
py() { PYTHONPATH="$clients/llama.cpp/gguf-py" /usr/bin/python3 "$@"; }
row() { echo "{\"part\": \"$1\", \"others_cpu_pct\": $(tail -1 "$others")}" >>"$results"; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

l1b=$work/l1b
if [[ " $parts " == *" 1 "* || " $parts " == *" 3 "* ]]; then
  [[ -f $l1b-F16.gguf ]] || py bench/baselines/random_gguf.py --shape llama3.2-1b --type F16 --out "$l1b-F16.gguf"
  for t in Q8_0 Q4_0 Q4_K_M Q6_K IQ4_XS; do
    [[ -f $l1b-$t.gguf ]] || py tests/interop/clients/llama_quantize.py "$l1b-F16.gguf" "$l1b-$t.gguf" "$t" \
      --threads "$threads" >/dev/null 2>&1
  done
fi

if [[ " $parts " == *" 1 "* ]]; then
  for base in bf16 q8_0 q4_0 q4_k nf4; do
    echo "train gpt2-124m $base ..." >&2
    timed "$peft" bench train --preset gpt2-124m --batch 4 --seq 256 --base-dtype "$base" --steps 3 --warmup 1 \
      --threads "$threads" --no-peak --json
    row train-gpt2
  done
  for base in bf16 q8_0 q4_0 q4_k nf4; do
    echo "train llama3.2-1b $base ..." >&2
    timed "$peft" bench train --preset llama3.2-1b --batch 1 --seq 512 --base-dtype "$base" --steps 2 --warmup 1 \
      --threads "$threads" --no-peak --json
    row train-llama
  done
  for t in Q6_K Q4_K_M; do
    echo "train llama3.2-1b file $t ..." >&2
    timed "$peft" bench train --model "$l1b-$t.gguf" --batch 1 --seq 512 --steps 2 --warmup 1 --threads "$threads" \
      --no-peak --json
    row train-llama-file
  done
fi

if [[ " $parts " == *" 2 "* ]]; then
  l8b=$work/l8b-Q4_K.gguf
  [[ -f $l8b ]] || py bench/baselines/random_gguf.py --shape llama3.1-8b --type Q4_K --out "$l8b"
  echo "train llama3.1-8b Q4_K file, r=16 q,k,v,o, 1 x 512, checkpointing ..." >&2
  timed "$peft" bench train --model "$l8b" --batch 1 --seq 512 --lora-r 16 \
    --target-modules q_proj,k_proj,v_proj,o_proj --gradient-checkpointing --steps 1 --warmup 1 \
    --threads "$threads" --no-peak --json
  row train-8b
fi

if [[ " $parts " == *" 3 "* ]]; then
  mkdir -p "$work/node"
  [[ -e $work/node/node_modules ]] || ln -s "$clients/llama/node_modules" "$work/node/node_modules"
  cp bench/baselines/llama_cpp_decode.mjs "$work/node/"
  for t in Q8_0 Q4_0 Q4_K_M Q6_K IQ4_XS; do
    for rep in 1 2; do
      echo "decode $t peft.cpp ($rep) ..." >&2
      timed "$peft" bench generate --model "$l1b-$t.gguf" --prompt 64 --tokens 64 --batch 0 --threads "$threads" --json
      row "decode-$t"
      echo "decode $t llama.cpp ($rep) ..." >&2
      timed "$clients/node" "$work/node/llama_cpp_decode.mjs" "$l1b-$t.gguf" 64 64 "$threads"
      row "decode-$t"
    done
  done
fi

if [[ " $parts " == *" 4 "* ]]; then
  stories=$work/stories260k
  [[ -d $stories ]] || "$peft" convert --from llama2c --checkpoint ../shared/data/models/stories260K/stories260K.bin \
    --tokenizer ../shared/data/models/stories260K/tok512.model --out "$stories" >/dev/null
  for seed in 1 2 3; do
    for base in f32 q8_0 q4_0; do
      echo "stories260k boolq lora $base seed $seed ..." >&2
      out=$work/boolq-$base-$seed
      rm -rf "$out"
      line=$("$peft" train --model "$stories" --base-dtype "$base" \
        --data ../shared/data/datasets/llm_adapters/dataset/boolq/train.json --output "$out" --method lora \
        --lora-r 8 --max-steps 60 --batch-size 16 --micro-batch-size 16 --learning-rate 3e-3 --cutoff-len 128 \
        --val-set-size 200 --seed "$seed" --save-steps 1000 2>/dev/null | tail -1)
      echo "{\"part\": \"boolq\", \"base\": \"$base\", \"seed\": $seed, \"summary\": \"$line\"}" >>"$results"
    done
  done
fi
if [[ " $parts " == *" 5 "* ]]; then
  stories=$work/stories260k
  [[ -d $stories ]] || "$peft" convert --from llama2c --checkpoint ../shared/data/models/stories260K/stories260K.bin \
    --tokenizer ../shared/data/models/stories260K/tok512.model --out "$stories" >/dev/null
  q40=$work/stories-q4_0.gguf
  "$peft" export --format gguf --model "$stories" --out "$q40" --type q4_0 --overwrite 2>/dev/null
  /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))[:300]; print("\n".join(json.dumps({"text": x["instruction"] + " " + x["output"]}) for x in r))' \
    ../shared/data/datasets/llm_adapters/dataset/boolq/test.json >"$work/boolq-test.jsonl"
  rm -rf "$work/lora-q4_0"
  "$peft" train --model "$q40" --data ../shared/data/datasets/llm_adapters/dataset/boolq/train.json \
    --output "$work/lora-q4_0" --method lora --lora-r 8 --max-steps 60 --batch-size 16 --micro-batch-size 16 \
    --learning-rate 3e-3 --cutoff-len 128 --val-set-size 0 --seed 1 --save-steps 1000 >/dev/null 2>&1
  ppl() {  # model [adapter] -> the perplexity line of results.json
    local out=$work/ppl-$RANDOM
    "$peft" eval --model "$1" ${2:+--adapter "$2"} --task perplexity --data "$work/boolq-test.jsonl" --out "$out" \
      >/dev/null 2>&1
    /usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$out/results.json"
  }
  echo "{\"part\": \"merge\", \"case\": \"base q4_0, no adapter\", \"eval\": $(ppl "$q40")}" >>"$results"
  echo "{\"part\": \"merge\", \"case\": \"q4_0 + adapter kept separate\", \"eval\": $(ppl "$q40" "$work/lora-q4_0")}" >>"$results"
  for t in q4_0 q8_0 f16; do
    "$peft" merge --model "$q40" --adapter "$work/lora-q4_0" --out "$work/merged-$t.gguf" --type "$t" --overwrite \
      2>"$work/merge-$t.log"
    echo "{\"part\": \"merge\", \"case\": \"merged, stored $t\", \"report\": \"$(tail -1 "$work/merge-$t.log")\", \"eval\": $(ppl "$work/merged-$t.gguf")}" >>"$results"
  done
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
cat "$results"
