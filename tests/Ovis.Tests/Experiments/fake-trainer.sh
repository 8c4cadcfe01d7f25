#!/usr/bin/env bash
# A stand-in for `ovis train` honouring the trainer contract of the experiment runner (tests only).
# Usage: fake-trainer.sh LOG [--name value]... --out DIR
#   Appends "start DIR" to LOG when it starts and "done DIR" after it wrote summary.json.
#   --sleep S       sleep S seconds before writing results
#   --fail-dir D    exit 3 with a message on stderr if the file D/fail-<seed> exists
#   metrics.jsonl: for step s = 1..steps (default 3), with f = 2 for reinforce else 1:
#     gmm/posterior_error = f*seed/(iw*s), gmm/prior_error = 1/(iw*s), grads/snr = iw*s, loss/L_k = -100/iw + s
set -euo pipefail
log="$1"; shift
out=""; iw=1; seed=1; estimator=none; sleep_s=0; fail_dir=""; steps=3
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2";; --iw) iw="$2";; --seed) seed="$2";; --estimator) estimator="$2";;
    --sleep) sleep_s="$2";; --fail-dir) fail_dir="$2";; --steps) steps="$2";;
  esac
  shift 2
done
[ -n "$out" ] || { echo "fake trainer: --out is missing" >&2; exit 2; }
echo "start $out" >> "$log"
echo "fake trainer: estimator=$estimator iw=$iw seed=$seed"
if [ "$sleep_s" != "0" ]; then sleep "$sleep_s"; fi
if [ -n "$fail_dir" ] && [ -e "$fail_dir/fail-$seed" ]; then
  echo "loading data" >&2
  echo "fake trainer: injected failure for seed $seed" >&2
  exit 3
fi
f=1; [ "$estimator" = reinforce ] && f=2
: > "$out/metrics.jsonl"
for s in $(seq 1 "$steps"); do
  awk -v f="$f" -v seed="$seed" -v iw="$iw" -v s="$s" 'BEGIN { printf "{\"step\": %d, \"gmm/posterior_error\": %.17g, \"gmm/prior_error\": %.17g, \"grads/snr\": %.17g, \"loss/L_k\": %.17g}\n", s*1000, f*seed/(iw*s), 1/(iw*s), iw*s, -100/iw + s }' >> "$out/metrics.jsonl"
done
printf '{"status": "completed", "metrics": {"steps": %d}}\n' "$steps" > "$out/summary.json.tmp"
mv "$out/summary.json.tmp" "$out/summary.json"
echo "done $out" >> "$log"
