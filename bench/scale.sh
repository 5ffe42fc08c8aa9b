#!/usr/bin/env bash
# Today's models at real shapes (random weights): LoRA r=16 on q,k,v,o, bf16 base, batch 1 × 512
# and 4 × 512, with and without gradient checkpointing, peft.cpp beside the plain-PyTorch
# baseline (bf16 autocast over fp32 weights) where that fits in memory. Prints one table.
#
#   bench/scale.sh [--presets "qwen3-0.6b llama3.2-1b gemma2-2b"] [--shapes "1x512 4x512"]
#                  [--torch-presets "qwen3-0.6b llama3.2-1b"] [--threads 2] [--peft build/bin/peft]
#   bench/scale.sh --presets llama3.1-8b --shapes 1x512 --torch-presets ""     # the 8B memory run
#
# Steps: 2 timed after 1 warm-up (1 after 1 for 4 × 512 rows). "others' CPU" as in compare.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

presets="qwen3-0.6b llama3.2-1b gemma2-2b" shapes="1x512 4x512" torch_presets="qwen3-0.6b llama3.2-1b gemma2-2b"
threads=2 peft=build/bin/peft python=${PYTHON:-/usr/bin/python3}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --presets) presets=$2; shift 2 ;;
    --shapes) shapes=$2; shift 2 ;;
    --torch-presets) torch_presets=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --peft) peft=$2; shift 2 ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "scale.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x $peft ]] || { echo "scale.sh: $peft not built (cmake --build build)" >&2; exit 1; }
lora=(--lora-r 16 --target-modules q_proj,k_proj,v_proj,o_proj)
results=$(mktemp) others=$(mktemp) errors=$(mktemp)
trap 'rm -f "$results" "$others" "$errors"' EXIT
source bench/timed.sh

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for preset in $presets; do
  for shape in $shapes; do
    B=${shape%x*} T=${shape#*x} steps=2
    [[ $B -gt 1 ]] && steps=1
    for ckpt in "" --gradient-checkpointing; do
      echo "peft.cpp $preset $shape ${ckpt:-no-checkpointing} ..." >&2
      timed "$peft" bench train --preset "$preset" --batch "$B" --seq "$T" --base-dtype bf16 "${lora[@]}" \
        --steps "$steps" --warmup 1 --threads "$threads" --no-peak --json $ckpt
      if [[ " $torch_presets " == *" $preset "* ]]; then
        echo "pytorch  $preset $shape ${ckpt:-no-checkpointing} ..." >&2
        OMP_NUM_THREADS=$threads timed "$python" bench/baselines/pytorch_lora.py --preset "$preset" --batch "$B" \
          --seq "$T" --dtype bf16 "${lora[@]}" --steps "$steps" --warmup 1 --threads "$threads" $ckpt
      fi
    done
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
[[ -s $errors ]] && grep -iE "error|killed|memory" "$errors" >&2 || true

"$python" - "$results" "$others" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
for r, o in zip(rows, open(sys.argv[2]).read().split()):
    r["others"] = int(o)
print("| model | batch | checkpointing | engine | tokens/s | step s | fwd s | bwd s | opt s | peak RSS MB | speed ratio | others' CPU |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
peft = {}
for r in rows:
    if r.get("failed"):
        print("| (a run failed: out of memory or an error; see stderr) |||||||||||")
        continue
    ck = bool(r.get("gradient_checkpointing"))
    key = (r["preset"], r["batch"], r["seq"], ck)
    eng = "peft.cpp" if r["engine"] == "peft.cpp" else "pytorch autocast"
    ratio = ""
    if r["engine"] == "peft.cpp":
        peft[key] = r
    elif key in peft:
        ratio = f"{peft[key]['tokens_per_s'] / r['tokens_per_s']:.2f}x"
    print(f"| {r['preset']} | {r['batch']} × {r['seq']} | {'yes' if ck else 'no'} | {eng} | {r['tokens_per_s']:.1f} | "
          f"{r['step_s']:.2f} | {r['forward_s']:.2f} | {r['backward_s']:.2f} | {r['optimizer_s']:.3f} | "
          f"{r['peak_rss_mb']:.0f} | {ratio} | {r['others']}% |")
PY
