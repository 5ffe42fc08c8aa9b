#!/usr/bin/env bash
# Data parallelism over MPI on this machine (BENCHMARKS.md "Data parallelism"): the same global
# batch trained by 1 process x 2 threads and by 2 MPI ranks x 1 thread (each bound to a core),
# on the stories260K and GPT-2 124M shapes (random weights, LoRA r=8 on the default targets):
# tokens/s, and the gradient all-reduce's time per step and share of it. Then the scale-out
# model on paper: gradient bytes of LoRA r=16 on q,k,v,o of Llama-3.1-8B, ring all-reduce time
# at 10/25/100 Gbit/s for 2-64 ranks, against the measured step time of that model.
#
#   bench/dp.sh [--steps 5]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=5
while [[ $# -gt 0 ]]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) echo "dp.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
peft=$PWD/build/bin/peft
mpirun=(mpirun --bind-to core --map-by core -x OMP_NUM_THREADS=1)
[ "$(id -u)" = 0 ] && mpirun+=(--allow-run-as-root)
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for spec in "stories260k 16 207" "gpt2-124m 4 256"; do
  read -r preset batch seq <<<"$spec"
  for rep in 1 2; do
    OMP_NUM_THREADS=2 "$peft" bench train --preset "$preset" --batch "$batch" --seq "$seq" --steps "$steps" \
      --warmup 2 --threads 2 --no-peak --json
    "${mpirun[@]}" -np 2 "$peft" bench train --preset "$preset" --batch "$batch" --seq "$seq" --steps "$steps" \
      --warmup 2 --threads 1 --no-peak --json
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
