#!/usr/bin/env bash
# Stop the daemons that start_cluster.sh STATE_DIR started (by their pid files only).
set -uo pipefail
STATE=$(realpath -m "${1:?usage: stop_cluster.sh STATE_DIR}")
for pidfile in "$STATE/slurmd.pid" "$STATE/slurmctld.pid" "$STATE/munge/munged.pid"; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
done
exit 0
