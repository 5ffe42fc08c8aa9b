#!/usr/bin/env bash
# Renders a `peft report` page in headless Chromium and checks that it drew something.
# Usage: tests/interop/report_renders.sh [build/bin/peft]   (SKIP when chromium is absent)
# REPORT_SHOT=FILE.png keeps the screenshot for a look.
set -euo pipefail
peft="${1:-build/bin/peft}"
browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then echo "SKIP: chromium is not installed (apt-get install chromium)"; exit 0; fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Two small runs' metrics and eval results of two methods on two tasks exercise every section.
mkdir -p "$tmp/run-a" "$tmp/run-b" "$tmp/eval" "$tmp/eval-lora" "$tmp/lora"
for i in $(seq 1 20); do
  val=""
  if [ $((i % 10)) = 0 ]; then val=",\"val_loss\":$(awk "BEGIN{print 3.9 - $i * 0.09}")"; fi
  lr="$(awk "BEGIN{print ($i <= 5 ? 0.001 * $i / 5 : 0.001 * (20 - $i) / 15)}")"  # warmup, linear decay
  printf '{"step":%d,"loss":%s,"lr":%s,"tokens_per_s":%s%s}\n' "$i" "$(awk "BEGIN{print 4 - $i * 0.1}")" "$lr" \
    "$(awk "BEGIN{print 1000 + 200 * (1 - 1 / $i)}")" "$val" >> "$tmp/run-a/metrics.jsonl"
  printf '{"step":%d,"loss":%s,"lr":0.0005,"tokens_per_s":900}\n' "$i" "$(awk "BEGIN{print 5 - $i * 0.15}")" >> "$tmp/run-b/metrics.jsonl"
done
printf '{"peft_type":"LORA"}\n' > "$tmp/lora/adapter_config.json"
printf '{"task":"boolq","n":10,"correct":6,"accuracy":0.6,"unparsed":0,"settings":{"adapter":""}}\n' > "$tmp/eval/results.json"
printf '{"task":"boolq","n":10,"correct":8,"accuracy":0.8,"unparsed":0,"settings":{"adapter":"%s"}}\n' "$tmp/lora" \
  > "$tmp/eval-lora/results.json"
"$peft" report "$tmp/run-a" "$tmp/run-b" "$tmp/eval" "$tmp/eval-lora" --out "$tmp/report.html" >/dev/null
"$browser" --headless --no-sandbox --disable-gpu --window-size=1200,1400 \
  --screenshot="$tmp/report.png" "file://$tmp/report.html" >/dev/null 2>&1
dom="$("$browser" --headless --no-sandbox --disable-gpu --dump-dom "file://$tmp/report.html" 2>/dev/null)"
size=$(stat -c %s "$tmp/report.png" 2>/dev/null || echo 0)
if [ -n "${REPORT_SHOT:-}" ]; then cp "$tmp/report.png" "$REPORT_SHOT"; fi
charts=$(grep -o "<svg" <<<"$dom" | wc -l)  # loss, learning rate, tokens/s, eval bars
if [ "$size" -gt 20000 ] && [ "$charts" -eq 4 ] && grep -q "boolq (accuracy)" <<<"$dom" && grep -q "(lora)" <<<"$dom"; then
  echo "PASS: report rendered (${size}-byte screenshot, $charts SVG charts and the eval table present)"
else
  echo "FAIL: report did not render as expected (screenshot ${size} bytes)"; exit 1
fi
