#!/usr/bin/env bash
# A stand-in for `ovis train` honouring the trainer contract of the experiment runner (tests only).
# Usage: fake-trainer.sh LOG [--name value]... --out DIR        start a run
#        fake-trainer.sh LOG --resume --out DIR                 continue it from its checkpoint
#   Appends to LOG: "start DIR" when a run starts, "resume DIR STEP" when it continues, "stopped DIR STEP" when SIGTERM
#   stopped it (exit 75, as ovis train), "done DIR" after it wrote summary.json.
#   --sleep S       sleep S seconds before the first step
#   --step-sleep S  sleep S seconds in every step
#   --fail-dir D    exit 3 with a message on stderr if the file D/fail-<seed> exists; if D/native-<seed>-<iw>-<estimator>
#                   exists, delete it and exit 70 (ovis train's libtorch error) after the first step's checkpoint
#   checkpoint.bin holds the last step done; fake.cfg the run's settings (read back on --resume).
#   metrics.jsonl: for step s = 1..steps (default 3), with f = 2 for reinforce else 1:
#     gmm/posterior_error = f*seed/(iw*s), gmm/prior_error = 1/(iw*s), grads/snr = iw*s, loss/L_k = -100/iw + s
set -euo pipefail
log="$1"; shift
out=""; iw=1; seed=1; estimator=none; sleep_s=0; step_sleep=0; fail_dir=""; steps=3; resume=0
while [ $# -gt 0 ]; do
  case "$1" in
    --resume) resume=1; shift; continue;;
    --out) out="$2";; --iw) iw="$2";; --seed) seed="$2";; --estimator) estimator="$2";;
    --sleep) sleep_s="$2";; --step-sleep) step_sleep="$2";; --fail-dir) fail_dir="$2";; --steps) steps="$2";;
  esac
  shift 2
done
[ -n "$out" ] || { echo "fake trainer: --out is missing" >&2; exit 2; }
stop=0
trap 'stop=1' TERM
pause() { if [ "$1" != "0" ]; then sleep "$1" & wait $! || true; fi; }   # a trapped SIGTERM interrupts the wait at once
start=0
if [ "$resume" = 1 ]; then
  [ -f "$out/checkpoint.bin" ] || { echo "fake trainer: --resume: $out/checkpoint.bin does not exist" >&2; exit 2; }
  read -r iw seed estimator steps step_sleep fail_dir < "$out/fake.cfg"
  [ "$fail_dir" = "-" ] && fail_dir=""
  start=$(cat "$out/checkpoint.bin")
  echo "resume $out $start" >> "$log"
else
  [ -f "$out/checkpoint.bin" ] && { echo "fake trainer: $out already holds a run; use --resume" >&2; exit 2; }
  echo "$iw $seed $estimator $steps $step_sleep ${fail_dir:--}" > "$out/fake.cfg"
  : > "$out/metrics.jsonl"
  echo "start $out" >> "$log"
fi
echo "fake trainer: estimator=$estimator iw=$iw seed=$seed"
pause "$sleep_s"
if [ -n "$fail_dir" ] && [ -e "$fail_dir/fail-$seed" ]; then
  echo "loading data" >&2
  echo "fake trainer: injected failure for seed $seed" >&2
  exit 3
fi
f=1; [ "$estimator" = reinforce ] && f=2
for s in $(seq $((start + 1)) "$steps"); do
  if [ "$stop" = 1 ]; then
    printf '{"status": "stopped", "steps": %d}\n' "$((s - 1))" > "$out/summary.json"
    echo "stopped $out $((s - 1))" >> "$log"
    exit 75
  fi
  pause "$step_sleep"
  awk -v f="$f" -v seed="$seed" -v iw="$iw" -v s="$s" 'BEGIN { printf "{\"step\": %d, \"gmm/posterior_error\": %.17g, \"gmm/prior_error\": %.17g, \"grads/snr\": %.17g, \"loss/L_k\": %.17g}\n", s*1000, f*seed/(iw*s), 1/(iw*s), iw*s, -100/iw + s }' >> "$out/metrics.jsonl"
  echo "$s" > "$out/checkpoint.bin.tmp" && mv "$out/checkpoint.bin.tmp" "$out/checkpoint.bin"
  if [ -n "$fail_dir" ] && [ -e "$fail_dir/native-$seed-$iw-$estimator" ]; then
    rm -f "$fail_dir/native-$seed-$iw-$estimator"
    echo "ovis train: libtorch failed: Unknown scalar type. (injected)" >&2
    exit 70
  fi
done
printf '{"status": "completed", "metrics": {"steps": %d}}\n' "$steps" > "$out/summary.json.tmp"
mv "$out/summary.json.tmp" "$out/summary.json"
echo "done $out" >> "$log"
