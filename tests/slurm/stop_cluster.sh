#!/usr/bin/env bash
# Stop the daemons that start_cluster.sh STATE_DIR started (by their pid files only) and restore
# /etc/slurm/slurm.conf.
set -uo pipefail
STATE=$(realpath -m "${1:?usage: stop_cluster.sh STATE_DIR}")
for pidfile in "$STATE/slurmd.pid" "$STATE/slurmctld.pid" "$STATE/munge/munged.pid"; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
done
# Put /etc/slurm/slurm.conf back as start_cluster.sh found it.
if [ -e "$STATE/etc-slurm.conf.written" ]; then
    if [ -e "$STATE/etc-slurm.conf.orig" ]; then
        cp -p "$STATE/etc-slurm.conf.orig" /etc/slurm/slurm.conf
    else
        rm -f /etc/slurm/slurm.conf
    fi
    rm -f "$STATE/etc-slurm.conf.written"
fi
exit 0
