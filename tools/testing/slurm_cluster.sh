#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for tests and for trying
# sweeps (tools/sweep.py --scheduler=slurm) without a real cluster. Needs
# root and Debian's slurm-wlm and munge (tools/setup.sh installs them).
#
#   tools/testing/slurm_cluster.sh start DIR   # prints the SLURM_CONF to use
#   SLURM_CONF=DIR/slurm.conf sbatch ...
#   tools/testing/slurm_cluster.sh stop DIR
#
# start writes DIR/slurm.conf (this host as controller and only node, all
# its CPUs, process tracking without cgroups: proctrack/linuxproc,
# task/none; slurmd's spool under /tmp, for its sockets' short paths),
# starts munged if it is not running, then slurmctld and
# slurmd on two free TCP ports with their state, logs and pid files in
# DIR, and waits until the node is idle (at most 60 s). stop cancels every
# job, stops both daemons, and stops munged if start started it.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
action=$1
dir=$(realpath -m "$2")

free_port() {
  /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("", 0))
print(s.getsockname()[1])'
}

start() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "$0: the cluster's daemons run as root" >&2
    exit 1
  fi
  for tool in slurmctld slurmd munged sinfo; do
    if ! command -v "$tool" > /dev/null && [ ! -x "/usr/sbin/$tool" ]; then
      echo "$0: $tool is missing: run tools/setup.sh (slurm-wlm, munge)" >&2
      exit 1
    fi
  done
  mkdir -p "$dir/state"
  # slurmd's spool holds Unix sockets, whose paths must stay under 108
  # bytes: a short directory of its own, not under DIR.
  local spool
  spool=$(mktemp -d /tmp/slurmd.XXXXXX)
  echo "$spool" > "$dir/spool_dir"
  # munged is up when a credential can be made (a zombie munged does not
  # count).
  if ! munge -n > /dev/null 2>&1; then
    mkdir -p /run/munge
    chown munge:munge /run/munge
    runuser -u munge -- /usr/sbin/munged
    touch "$dir/started_munged"
    for _ in $(seq 50); do
      munge -n > /dev/null 2>&1 && break
      sleep 0.1
    done
  fi
  local host
  host=$(hostname -s)
  cat > "$dir/slurm.conf" <<EOF
ClusterName=marl
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=$dir/state
SlurmdSpoolDir=$spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$dir/slurm.conf"
  /usr/sbin/slurmctld -f "$SLURM_CONF"
  /usr/sbin/slurmd -f "$SLURM_CONF"
  local deadline=$(($(date +%s) + 60))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if timeout 5 sinfo -h -o %t 2>/dev/null | grep -qx idle; then
      echo "SLURM_CONF=$SLURM_CONF"
      return 0
    fi
    sleep 0.5
  done
  echo "$0: the node did not come up in 60 s; logs in $dir" >&2
  tail -n 5 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
  stop
  exit 1
}

stop() {
  export SLURM_CONF="$dir/slurm.conf"
  timeout 10 scancel --full --quiet --user=root 2>/dev/null || true
  for daemon in slurmd slurmctld; do
    if [ -f "$dir/$daemon.pid" ]; then
      local pid
      pid=$(cat "$dir/$daemon.pid")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$dir/$daemon.pid"
    fi
  done
  if [ -f "$dir/spool_dir" ]; then
    rm -rf "$(cat "$dir/spool_dir")"
    rm -f "$dir/spool_dir"
  fi
  if [ -f "$dir/started_munged" ]; then
    pkill -u munge -x munged || true
    rm -f "$dir/started_munged"
  fi
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
