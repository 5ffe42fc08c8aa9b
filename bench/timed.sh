# Sourced by bench/compare.sh and bench/scale.sh: `timed CMD...` runs CMD with its stdout
# appended to $results and stderr to $errors (a failed run appends {"failed": true}), then
# appends to $others how busy the machine was with other work meanwhile: its busy CPU time
# minus the run's own, as a share of all cores (above ~10% the row is disturbed).
busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
timed() {
  local b0 t0 b1 t1 tf
  tf=$(mktemp)
  b0=$(busy_jiffies); t0=$(date +%s.%N)
  if ! { TIMEFORMAT='%U %S'; time "$@" >>"$results" 2>>"$errors"; } 2>"$tf"; then
    echo '{"failed": true}' >>"$results"
  fi
  b1=$(busy_jiffies); t1=$(date +%s.%N)
  awk -v b0="$b0" -v b1="$b1" -v t0="$t0" -v t1="$t1" -v n="$(nproc)" -v hz="$(getconf CLK_TCK)" \
    '{ o = ((b1 - b0) / hz - $1 - $2) / ((t1 - t0) * n) * 100; if (o < 0) o = 0; printf "%.0f\n", o }' "$tf" >>"$others"
  rm -f "$tf"
}
