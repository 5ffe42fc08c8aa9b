#!/usr/bin/env bash
# Renders a `peft report` page in headless Chromium and checks that it drew something.
# Usage: tests/interop/report_renders.sh [build/bin/peft]   (SKIP when chromium is absent)
set -euo pipefail
peft="${1:-build/bin/peft}"
browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then echo "SKIP: chromium is not installed (apt-get install chromium)"; exit 0; fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Two small runs' metrics and one eval result are enough to exercise every section.
mkdir -p "$tmp/run-a" "$tmp/run-b" "$tmp/eval"
for i in $(seq 1 20); do
  val=""
  if [ $((i % 10)) = 0 ]; then val=",\"val_loss\":$(awk "BEGIN{print 3.9 - $i * 0.09}")"; fi
  printf '{"step":%d,"loss":%s,"lr":0.001,"tokens_per_s":1000%s}\n' "$i" "$(awk "BEGIN{print 4 - $i * 0.1}")" "$val" >> "$tmp/run-a/metrics.jsonl"
  printf '{"step":%d,"loss":%s,"lr":0.001,"tokens_per_s":900}\n' "$i" "$(awk "BEGIN{print 5 - $i * 0.15}")" >> "$tmp/run-b/metrics.jsonl"
done
printf '{"task":"boolq","n":10,"correct":6,"accuracy":0.6,"unparsed":0}\n' > "$tmp/eval/results.json"
"$peft" report "$tmp/run-a" "$tmp/run-b" "$tmp/eval" --out "$tmp/report.html" >/dev/null
"$browser" --headless --no-sandbox --disable-gpu --window-size=1200,1400 \
  --screenshot="$tmp/report.png" "file://$tmp/report.html" >/dev/null 2>&1
dom="$("$browser" --headless --no-sandbox --disable-gpu --dump-dom "file://$tmp/report.html" 2>/dev/null)"
size=$(stat -c %s "$tmp/report.png" 2>/dev/null || echo 0)
if [ "$size" -gt 20000 ] && grep -q "<svg" <<<"$dom" && grep -q "boolq" <<<"$dom"; then
  echo "PASS: report rendered (${size}-byte screenshot, SVG chart and eval table present)"
else
  echo "FAIL: report did not render as expected (screenshot ${size} bytes)"; exit 1
fi
