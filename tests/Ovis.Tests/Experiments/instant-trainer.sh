#!/bin/sh
# The cheapest trainer that honours the runner's contract (tests of the store under load only): one POSIX sh process
# per run that writes a completed summary.json into --out DIR and logs "start DIR" / "done DIR" like fake-trainer.sh.
# Usage: instant-trainer.sh LOG [--name value]... --out DIR
log=$1; shift
out=""
while [ $# -gt 0 ]; do
  if [ "$1" = --out ]; then out=$2; fi
  shift
done
echo "start $out" >> "$log"
echo '{"status": "completed", "metrics": {}}' > "$out/summary.json"
echo "done $out" >> "$log"
