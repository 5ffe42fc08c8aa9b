#!/usr/bin/env bash
# Runs `peft bench train` and the plain-PyTorch baseline side by side and prints the ratios.
#
#   bench/compare.sh [--preset gpt2-124m] [--batch 4] [--seq 256] [--threads 2]
#                    [--steps 3] [--warmup 1] [--dtypes "f32 bf16"] [--peft build/bin/peft]
#
# Same preset, batch, LoRA (r=8, alpha 16, dropout 0.05, the arch's default targets) and
# thread count on both sides; runs one at a time (f32 pair, then bf16 pair). Prints the
# machine load before and after: numbers taken with load above the thread count are noise.
set -euo pipefail
cd "$(dirname "$0")/.."

preset=gpt2-124m batch="" seq="" threads=2 steps=3 warmup=1 dtypes="f32 bf16"
peft=build/bin/peft python=${PYTHON:-/usr/bin/python3}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --preset) preset=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --seq) seq=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --dtypes) dtypes=$2; shift 2 ;;
    --peft) peft=$2; shift 2 ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x $peft ]] || { echo "compare.sh: $peft not built (cmake --build build)" >&2; exit 1; }
# PyTorch's fp32 matmuls go to the system BLAS. Debian's default is netlib's single-threaded
# reference BLAS (~40x slower); use OpenBLAS's OpenMP build (apt-get install
# libopenblas0-openmp) for this process only, without switching the system alternative.
blas_dir=${BLAS_DIR:-/usr/lib/x86_64-linux-gnu/openblas-openmp}
if [[ -e $blas_dir/libblas.so.3 ]]; then
  export LD_LIBRARY_PATH="$blas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
  echo "compare.sh: $blas_dir missing: PyTorch fp32 runs on the system BLAS (apt-get install libopenblas0-openmp)" >&2
fi

shape=()
[[ -n $batch ]] && shape+=(--batch "$batch")
[[ -n $seq ]] && shape+=(--seq "$seq")
results=$(mktemp)

# Others' CPU during a run: the machine's busy time minus the run's own CPU time, as a share
# of all cores — above ~10% the row is disturbed by other work and should not be trusted.
source bench/timed.sh
others=$(mktemp)
errors=$(mktemp)
trap 'rm -f "$results" "$others" "$errors"' EXIT

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for dt in $dtypes; do
  echo "peft.cpp $preset $dt ..." >&2
  timed "$peft" bench train --preset "$preset" "${shape[@]}" --base-dtype "$dt" --steps "$steps" \
    --warmup "$warmup" --threads "$threads" --json
  echo "pytorch  $preset $dt ..." >&2
  OMP_NUM_THREADS=$threads timed "$python" bench/baselines/pytorch_lora.py --preset "$preset" "${shape[@]}" \
    --dtype "$dt" --steps "$steps" --warmup "$warmup" --threads "$threads"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
[[ -s $errors ]] && cat "$errors" >&2

"$python" - "$results" "$others" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
for r, o in zip(rows, open(sys.argv[2]).read().split()):
    r["others_cpu_pct"] = int(o)
if any(r.get("failed") for r in rows):
    print("a run failed (see stderr); its row is left out", file=sys.stderr)
rows = [r for r in rows if not r.get("failed")]
by = {}
for r in rows:
    dt = "bf16" if r["base_dtype"].startswith("bf16") else "f32"
    by[(r["engine"], dt)] = r
r0 = rows[0]
print(f"\nPyTorch BLAS: {next((r['blas'] for r in rows if 'blas' in r), '?')}")
print(f"\n{r0['preset']}, batch {r0['batch']} x {r0['seq']}, LoRA r=8, {r0['threads']} threads, "
      f"{r0['steps']} timed steps after {r0['warmup']} warm-up\n")
print("| base | engine | tokens/s | step s | fwd s | bwd s | opt s | GFLOP/s | peak RSS MB | speed ratio | RSS ratio | others' CPU |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for dt in ("f32", "bf16"):
    p, t = by.get(("peft.cpp", dt)), by.get(("pytorch", dt))
    for name, r in (("peft.cpp", p), ("pytorch" + (" autocast" if dt == "bf16" else ""), t)):
        if not r:
            continue
        ratio = rss = ""
        if name == "peft.cpp" and t:
            ratio = f"{r['tokens_per_s'] / t['tokens_per_s']:.2f}x"
            rss = f"{r['peak_rss_mb'] / t['peak_rss_mb']:.2f}x"
        print(f"| {dt} | {name} | {r['tokens_per_s']:.1f} | {r['step_s']:.3f} | {r['forward_s']:.3f} | "
              f"{r['backward_s']:.3f} | {r['optimizer_s']:.4f} | {r['gflops']:.1f} | {r['peak_rss_mb']:.0f} | "
              f"{ratio} | {rss} | {r.get('others_cpu_pct', '?')}% |")
pk = [r for r in rows if r["engine"] == "peft.cpp" and r.get("peak_gflops")]
for r in pk:
    print(f"\npeft.cpp {r['base_dtype']}: {r['pct_of_peak']:.0f}% of the measured {r['base_dtype']} matmul peak "
          f"({r['peak_gflops']:.0f} GFLOP/s)", end="")
print("\n\nothers' CPU: share of all cores used by other processes during the run (> ~10%: disturbed)")
PY
