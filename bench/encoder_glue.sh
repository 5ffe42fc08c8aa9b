#!/usr/bin/env bash
# A real GLUE run on an encoder, honestly small: no pretrained encoder exists on this machine, so
# a randomly initialised tiny BERT (bench/baselines/tiny_encoder.py, transformers 4.31) learns
# SST-2 through peft.cpp, with the encoder frozen and only the adapter + classification head
# trained — does it rise above the majority class? Rows: head only (LoRA r=1 on nothing but the
# head would be the same: we use IA3, whose vectors start at identity), LoRA, AdaMix over
# adapters with the AdaMix GLUE preset's settings. Then a control that the pipeline learns what
# a random encoder can carry: the same sentences labelled by a keyword rule (1 when the
# sentence has one of good/great/best/fun/love/funny/beautiful), LoRA only. Writes Markdown tables
# to stdout.
#
#   bench/encoder_glue.sh [--steps N] [--seeds "0 1 2"] [--train-rows N]
set -euo pipefail
cd "$(dirname "$0")/.."
PEFT=${PEFT:-build/bin/peft}
SHARED=${PEFT_SHARED_DIR:-../shared}
steps=300 seeds="0 1 2" rows=20000
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --train-rows) rows=$2; shift 2 ;;
    *) echo "encoder_glue.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d /tmp/encoder-glue.XXXXXX)
trap 'rm -rf "$work"' EXIT
head -n $((rows + 1)) "$SHARED/data/datasets/glue/SST-2/train.tsv" > "$work/train.tsv"
dev="$SHARED/data/datasets/glue/SST-2/dev.tsv"
# shellcheck disable=SC1091
(source "$SHARED/clients/python/env.sh" peft-0.6.2 && /usr/bin/python3 bench/baselines/tiny_encoder.py \
   "$work/model" "$work/train.tsv" --seed 0 >&2)
majority=$(awk -F'\t' 'NR > 1 { n[$2]++; t++ } END { m = 0; for (k in n) if (n[k] > m) m = n[k]; printf "%.4f", m / t }' "$dev")
common=(--model "$work/model" --data "$work/train.tsv" --data-format glue --max-steps "$steps" --batch-size 32
        --micro-batch-size 32 --cutoff-len 64 --val-set-size 0 --warmup-ratio 0.06 --save-steps 100000
        --logging-steps 100000)
echo "| method | seed | SST-2 dev accuracy | train s |"
echo "|---|---|---|---|"
echo "| majority class | – | $majority | – |"
run() {  # name seed flags...
  local name=$1 seed=$2; shift 2
  local out="$work/$name-$seed" t0 t1 acc
  t0=$(date +%s.%N)
  "$PEFT" train "${common[@]}" --seed "$seed" --output "$out" "$@" > "$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  "$PEFT" eval --task sst2 --model "$work/model" --adapter "$out" --data "$dev" --out "$out-eval" > /dev/null 2>&1
  acc=$(python3 -c "import json;print('%.4f' % json.load(open('$out-eval/results.json'))['accuracy'])")
  echo "| $name | $seed | $acc | $(python3 -c "print('%.0f' % ($t1 - $t0))") |"
}
eval_rows() {  # out data
  "$PEFT" eval --task sst2 --model "$work/model" --adapter "$1" --data "$2" --out "$1-eval" > /dev/null 2>&1
  python3 -c "import json;print('%.4f' % json.load(open('$1-eval/results.json'))['accuracy'])"
}
for seed in $seeds; do
  run "ia3 (head + IA3)" "$seed" --method ia3 --learning-rate 3e-3
  run "lora r8" "$seed" --method lora --lora-r 8 --lora-alpha 16 --target-modules query,value --learning-rate 1e-3
  run "adamix bottleneck (preset)" "$seed" --preset adamix-glue-bert --learning-rate 1e-3 --max-steps "$steps" \
      --batch-size 32 --micro-batch-size 32 --cutoff-len 64 --seed "$seed"
done

# The control: a lexical label a frozen random encoder can carry through to [CLS].
keyword() {  # in out
  awk -F'\t' 'NR == 1 { print; next } { l = ($1 ~ /(^| )(good|great|best|fun|love|funny|beautiful)( |$)/) ? 1 : 0; print $1 "\t" l }' "$1" > "$2"
}
keyword "$work/train.tsv" "$work/kw-train.tsv"
keyword "$dev" "$work/kw-dev.tsv"
kw_majority=$(awk -F'\t' 'NR > 1 { n[$2]++; t++ } END { m = 0; for (k in n) if (n[k] > m) m = n[k]; printf "%.4f", m / t }' "$work/kw-dev.tsv")
echo
echo "| control: keyword labels | seed | dev accuracy |"
echo "|---|---|---|"
echo "| majority class | – | $kw_majority |"
for seed in $seeds; do
  out="$work/kw-lora-$seed"
  "$PEFT" train --model "$work/model" --data "$work/kw-train.tsv" --data-format glue --max-steps "$steps" \
    --batch-size 32 --micro-batch-size 32 --cutoff-len 64 --val-set-size 0 --warmup-ratio 0.06 --save-steps 100000 \
    --logging-steps 100000 --seed "$seed" --output "$out" --method lora --lora-r 8 --lora-alpha 16 \
    --target-modules query,value --learning-rate 1e-3 > "$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
  echo "| lora r8 | $seed | $(eval_rows "$out" "$work/kw-dev.tsv") |"
done
