#!/usr/bin/env bash
# Start a real single-host Slurm (munged + slurmctld + slurmd on 127.0.0.1) for the cluster tests.
#
#   tests/cluster/slurm-up.sh [STATE_DIR]
#
# Needs root on Debian (12: slurm-wlm 22.05); installs slurm-wlm and munge with apt-get when missing.
# Everything it makes (slurm.conf, state, spool, logs, pid files, munge socket) lives in STATE_DIR
# (default: a new mktemp directory). Idempotent: a second call with the same STATE_DIR finds the daemons
# running and only waits for the node to be idle. Progress goes to stderr; stdout gets exactly two lines,
# which callers can eval or parse:
#   OVIS_SLURM_STATE=<STATE_DIR>
#   SLURM_CONF=<STATE_DIR>/slurm.conf      (set it for sbatch/squeue/scancel/scontrol/sinfo)
# Stop everything with tests/cluster/slurm-down.sh STATE_DIR.
# Environment: OVIS_SLURM_PORT (slurmctld port, default 6817; slurmd uses the next one),
#              OVIS_SLURM_WAIT (seconds to wait for the node to be idle, default 60),
#              OVIS_SLURM_CRED_EXPIRE (AuthInfo cred_expire, default 10 s instead of Slurm's 120: a requeued
#              job may start again cred_expire + 1 s after it was requeued).
set -euo pipefail

say() { echo "slurm-up: $*" >&2; }
die() { echo "slurm-up: error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (starts munged, slurmctld and slurmd)"

port=${OVIS_SLURM_PORT:-6817}
wait_s=${OVIS_SLURM_WAIT:-60}

# --- 1. packages -------------------------------------------------------------------------------------
need=()
command -v slurmctld >/dev/null 2>&1 || need+=(slurmctld)
command -v slurmd >/dev/null 2>&1 || need+=(slurmd)
command -v sbatch >/dev/null 2>&1 || need+=(slurm-client)
command -v munged >/dev/null 2>&1 || need+=(munge)
if [ ${#need[@]} -gt 0 ]; then
  say "installing slurm-wlm and munge with apt-get (missing: ${need[*]})"
  t_apt=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  # Keep the packages' maintainer scripts from starting daemons (munge ships an init script): a
  # temporary policy-rc.d that refuses every start, removed again afterwards if we made it.
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ]; then
    trap 'rm -f "$policy"' EXIT
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
  fi
  set +e
  apt_out=$( { apt-get install -y -qq --no-install-recommends slurm-wlm munge ||
               { apt-get update -qq && apt-get install -y -qq --no-install-recommends slurm-wlm munge; }; } 2>&1 )
  rc=$?
  set -e
  if [ "$made_policy" -eq 1 ]; then rm -f "$policy"; trap - EXIT; fi
  [ $rc -eq 0 ] || { printf '%s\n' "$apt_out" | tail -n 20 >&2; die "apt-get install slurm-wlm munge failed"; }
  say "installed in $((SECONDS - t_apt)) s"
  for b in slurmctld slurmd sbatch munged; do command -v $b >/dev/null 2>&1 || die "$b still missing after install"; done
fi

# --- 2. state directory --------------------------------------------------------------------------------
if [ $# -ge 1 ] && [ -n "$1" ]; then
  state=$1
  mkdir -p "$state"
else
  state=$(mktemp -d /tmp/ovis-slurm.XXXXXX)
fi
state=$(cd "$state" && pwd -P)
chmod 755 "$state"           # munged (user munge) and jobs must reach their folders below it
mkdir -p "$state/log" "$state/ctld" "$state/spool" "$state/munge" "$state/run"
chown munge:munge "$state/munge"
chmod 755 "$state/munge"     # the socket folder: clients connect, only munge writes
runuser -u munge -- test -w "$state/munge" ||
  die "user munge cannot reach $state/munge: put STATE_DIR where every parent folder is o+x (e.g. under /tmp)"
conf=$state/slurm.conf

alive() { # alive PIDFILE NAME: the pid file names a live process whose command is NAME
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] && running "$pid"
}
running() { # running PID: the process exists and is not a zombie (this machine's init may reap late)
  local st
  st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# --- 3. munge --------------------------------------------------------------------------------------------
key=/etc/munge/munge.key
if [ ! -s "$key" ]; then
  say "creating the munge key $key"
  install -d -o munge -g munge -m 700 /etc/munge
  if command -v mungekey >/dev/null 2>&1; then
    mungekey --create --keyfile="$key" --force
  else
    dd if=/dev/urandom of="$key" bs=1 count=1024 status=none
  fi
  chown munge:munge "$key"
  chmod 400 "$key"
fi
msock=$state/munge/munge.socket
if alive "$state/munge/munged.pid" munged; then
  say "munged already running (pid $(cat "$state/munge/munged.pid"))"
else
  say "starting munged as user munge"
  rm -f "$msock" "$msock.lock"
  runuser -u munge -- munged --socket="$msock" --key-file="$key" \
    --pid-file="$state/munge/munged.pid" --log-file="$state/munge/munged.log" \
    --seed-file="$state/munge/munged.seed" \
    || die "munged did not start: $(tail -n 5 "$state/munge/munged.log" 2>/dev/null)"
  for _ in $(seq 50); do [ -S "$msock" ] && break; sleep 0.1; done
fi
munge --socket="$msock" -n </dev/null | unmunge --socket="$msock" >/dev/null \
  || die "munge round trip failed: $(tail -n 5 "$state/munge/munged.log" 2>/dev/null)"

# --- 4. slurm.conf ---------------------------------------------------------------------------------------
host=$(hostname -s)
# CPUs, topology and RealMemory (MB) as slurmd itself measures them, so the node is never drained for having
# less than configured; nproc and /proc/meminfo if slurmd -C says nothing.
hw=$(slurmd -C 2>/dev/null | head -n 1 || true)
field() { printf '%s\n' "$hw" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }
cpus=$(field CPUs); [ -n "$cpus" ] || cpus=$(nproc)
mem=$(field RealMemory); [ -n "$mem" ] || mem=$(awk '/^MemTotal:/ {print int($2/1024)}' /proc/meminfo)
topo=""
sockets=$(field SocketsPerBoard); cores=$(field CoresPerSocket); threads=$(field ThreadsPerCore)
if [ -n "$sockets" ] && [ -n "$cores" ] && [ -n "$threads" ] && [ $((sockets * cores * threads)) -eq "$cpus" ]; then
  topo=" Sockets=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads"
fi

new_conf=$(cat <<EOF
# Written by tests/cluster/slurm-up.sh: a one-node Slurm on 127.0.0.1 for tests.
ClusterName=ovis
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
# cred_expire (default 120 s) is also how long a requeued job waits before it may start again.
AuthInfo=socket=$msock,cred_expire=${OVIS_SLURM_CRED_EXPIRE:-10}
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MpiDefault=none
MailProg=/bin/true
# Refuse at submission (not pend forever) what the partition cannot hold, e.g. more CPUs than the node has.
EnforcePartLimits=ALL
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
SchedulerType=sched/backfill
# Scheduling passes every 2 s instead of 60 s (main) / 30 s (backfill): a job that becomes eligible without an
# event (a requeued one, after its BeginTime) starts within seconds.
SchedulerParameters=sched_interval=2,bf_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
# SIGTERM -> SIGKILL grace on scancel/time limit; finished jobs stay in scontrol/squeue for MinJobAge s.
KillWait=5
MinJobAge=300
ReturnToService=2
SlurmctldTimeout=120
SlurmdTimeout=300
InactiveLimit=0
Waittime=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus$topo RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
)

ctld_pid=$state/run/slurmctld.pid
d_pid=$state/run/slurmd.pid
ctld_up=0
alive "$ctld_pid" slurmctld && ctld_up=1
if [ -f "$conf" ] && [ "$(cat "$conf")" = "$new_conf" ]; then
  :
else
  if [ $ctld_up -eq 1 ]; then
    say "slurm.conf changed: restarting slurmctld and slurmd"
    "$(dirname "$0")/slurm-down.sh" "$state" --keep-munge >&2
    ctld_up=0
  fi
  printf '%s\n' "$new_conf" >"$conf"
fi
export SLURM_CONF=$conf

# --- 5. slurmctld, slurmd ----------------------------------------------------------------------------------
logtail() {
  echo "--- slurmctld.log (tail) ---"; tail -n 25 "$state/log/slurmctld.log" 2>/dev/null || true
  echo "--- slurmd.log (tail) ---"; tail -n 25 "$state/log/slurmd.log" 2>/dev/null || true
}
port_busy() { # some other process listens on this TCP port
  ss -Hltn "sport = :$1" 2>/dev/null | grep -q . 
}
if alive "$ctld_pid" slurmctld; then
  say "slurmctld already running (pid $(cat "$ctld_pid"))"
else
  port_busy "$port" && die "TCP port $port is taken (another slurmctld? $(ss -Hltnp "sport = :$port" | head -n 1)); set OVIS_SLURM_PORT"
  say "starting slurmctld"
  slurmctld -f "$conf" || { logtail >&2; die "slurmctld did not start"; }
fi
if alive "$d_pid" slurmd; then
  say "slurmd already running (pid $(cat "$d_pid"))"
else
  port_busy "$((port + 1))" && die "TCP port $((port + 1)) is taken; set OVIS_SLURM_PORT"
  say "starting slurmd"
  slurmd -f "$conf" || { logtail >&2; die "slurmd did not start"; }
fi

# --- 6. wait for the node -----------------------------------------------------------------------------------
deadline=$((SECONDS + wait_s))
state_now=""
while :; do
  state_now=$(sinfo -h -N -n "$host" -o '%t' 2>/dev/null | head -n 1 || true)
  case "$state_now" in
    idle|mix|alloc) break ;;
  esac
  if [ $SECONDS -ge $deadline ]; then
    logtail >&2
    die "node $host not idle after ${wait_s}s (sinfo state: '${state_now:-no answer}')"
  fi
  sleep 0.5
done
say "node $host is $state_now ($cpus CPUs, ${mem} MB); state in $state"
echo "OVIS_SLURM_STATE=$state"
echo "SLURM_CONF=$conf"
