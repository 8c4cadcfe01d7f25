#!/usr/bin/env bash
# Stop the single-host Slurm that tests/cluster/slurm-up.sh started in STATE_DIR.
#
#   tests/cluster/slurm-down.sh STATE_DIR [--keep-munge] [--remove]
#
# Cancels the jobs still known to slurmctld, stops slurmd, slurmctld and munged by the pid files in
# STATE_DIR (SIGTERM, then SIGKILL after 10 s), and kills any slurmstepd or job process left from this
# cluster (a stepd by its open files under STATE_DIR, a job process by SLURM_JOB_ID and this SLURM_CONF in its
# environment). Idempotent: nothing running is not an error.
# --keep-munge leaves munged running; --remove deletes STATE_DIR afterwards.
set -euo pipefail

say() { echo "slurm-down: $*" >&2; }
die() { echo "slurm-down: error: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: slurm-down.sh STATE_DIR [--keep-munge] [--remove]"
state=$1; shift
keep_munge=0; remove=0
for a in "$@"; do
  case "$a" in
    --keep-munge) keep_munge=1 ;;
    --remove) remove=1 ;;
    *) die "unknown option $a" ;;
  esac
done
[ -d "$state" ] || { say "no state directory $state: nothing to stop"; exit 0; }
state=$(cd "$state" && pwd -P)
conf=$state/slurm.conf

pid_of() { # pid_of PIDFILE NAME: print the pid if the file names a live process whose command is NAME
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] && running "$pid" && echo "$pid"
}
running() { # running PID: the process exists and is not a zombie (this machine's init may reap late)
  local st
  st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

stop() { # stop PIDFILE NAME
  local pid
  pid=$(pid_of "$1" "$2") || { rm -f "$1"; return 0; }
  say "stopping $2 (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do running "$pid" || break; sleep 0.1; done
  if running "$pid"; then
    say "$2 (pid $pid) still running after 10 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 50); do running "$pid" || break; sleep 0.1; done
  fi
  rm -f "$1"
}

# 1. Cancel what is left, while slurmctld and slurmd still run, and give the steps KillWait to end.
if [ -f "$conf" ] && pid_of "$state/run/slurmctld.pid" slurmctld >/dev/null; then
  export SLURM_CONF=$conf
  jobs=$(squeue -h -o '%A' 2>/dev/null | sort -u | tr '\n' ' ' || true)
  if [ -n "${jobs// /}" ]; then
    say "cancelling jobs: $jobs"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null || true
    # KillWait (5 s) then SIGKILL; give it 15 s, and none if slurmd is gone (nobody would end the steps).
    if pid_of "$state/run/slurmd.pid" slurmd >/dev/null; then
      deadline=$((SECONDS + 15))
      while [ $SECONDS -lt $deadline ] && [ -n "$(squeue -h -t R,CG,S -o '%A' 2>/dev/null)" ]; do sleep 0.2; done
    fi
  fi
fi

# 2. The daemons, slurmd first.
stop "$state/run/slurmd.pid" slurmd
stop "$state/run/slurmctld.pid" slurmctld

# 3. Leftovers of this cluster, matched by what ties them to STATE_DIR, never by name alone:
#    - slurmstepd still holding files below STATE_DIR (e.g. after slurmd was killed);
#    - job processes (SLURM_JOB_ID and this SLURM_CONF in their environment; slurmd sets SLURM_CONF even for
#      --export=NONE). proctrack/linuxproc loses a job's process once it is re-parented (say, after
#      `scancel --batch` killed only the batch shell), so such orphans outlive their job.
left=()
for pid in $(pgrep -x slurmstepd || true) $(pgrep -x slurmd || true) $(pgrep -x slurmctld || true); do
  if find "/proc/$pid/fd" -maxdepth 1 -lname "$state/*" 2>/dev/null | grep -q .; then left+=("$pid"); fi
done
for f in $(grep -lzxF -- "SLURM_CONF=$conf" /proc/[0-9]*/environ 2>/dev/null || true); do
  pid=${f#/proc/}; pid=${pid%/environ}
  [ "$pid" = "$$" ] && continue
  if grep -qz '^SLURM_JOB_ID=' "$f" 2>/dev/null; then left+=("$pid"); fi
done
if [ ${#left[@]} -gt 0 ]; then
  say "killing leftover processes of this cluster: ${left[*]}"
  kill -KILL "${left[@]}" 2>/dev/null || true
fi

# 4. munged last.
[ $keep_munge -eq 1 ] || stop "$state/munge/munged.pid" munged

if [ $remove -eq 1 ]; then
  rm -rf "$state"
  say "removed $state"
fi
say "stopped"
