#!/usr/bin/env bash
# Start a single-node SLURM cluster on localhost for tests/test_workflow_slurm.py.
# Usage: start_cluster.sh STATE_DIR   (needs root; idempotent install of slurm-wlm and munge).
# Daemons are started by hand (no systemd): munged, slurmctld, slurmd; their PIDs go to
# STATE_DIR/*.pid so that stop_cluster.sh stops exactly them. The config is written to
# STATE_DIR/slurm.conf and also to /etc/slurm/slurm.conf, because the executor's job step
# strips SLURM_CONF from the environment; stop_cluster.sh restores the previous
# /etc/slurm/slurm.conf (or removes ours).
set -euo pipefail
STATE=$(realpath -m "${1:?usage: start_cluster.sh STATE_DIR}")
PARTITION=${SLURM_TEST_PARTITION:-main}
mkdir -p "$STATE"/{spool,state,log}

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q slurm-wlm munge
fi

HOST=$(hostname -s)
CPUS=$(nproc --all)
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
cat > "$STATE/slurm.conf" <<CONF
ClusterName=crossclass-test
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
MinJobAge=300
SchedulerType=sched/backfill
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=$PARTITION Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
mkdir -p /etc/slurm
# stop_cluster.sh puts back what was there: a stale slurm.conf would make every `scontrol`
# (and so every snakemake start, via the SLURM executor plugin) wait for a dead controller.
if [ -e /etc/slurm/slurm.conf ] && [ ! -e "$STATE/etc-slurm.conf.orig" ]; then
    cp -p /etc/slurm/slurm.conf "$STATE/etc-slurm.conf.orig"
fi
touch "$STATE/etc-slurm.conf.written"
cp "$STATE/slurm.conf" /etc/slurm/slurm.conf
export SLURM_CONF=$STATE/slurm.conf

# munge: a key, its runtime folders, then the daemon (it daemonises and writes its pid file).
if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
mkdir -p /run/munge /var/log/munge /var/lib/munge "$STATE/munge"
chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge "$STATE/munge" \
    2>/dev/null || true
chmod 0400 /etc/munge/munge.key
chmod 0755 /run/munge
if ! munge -n >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged --pid-file="$STATE/munge/munged.pid" 2>/dev/null \
        || /usr/sbin/munged --force --pid-file="$STATE/munge/munged.pid"
fi
for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done

/usr/sbin/slurmctld -f "$STATE/slurm.conf"
/usr/sbin/slurmd -f "$STATE/slurm.conf"

# Wait until the node is idle in the partition.
for _ in $(seq 60); do
    if sinfo -h -p "$PARTITION" -o "%t" 2>/dev/null | grep -qx "idle"; then
        echo "slurm cluster up: partition $PARTITION on $HOST ($CPUS cpus, $MEM_MB MB)"
        exit 0
    fi
    sleep 1
done
echo "slurm cluster did not come up; see $STATE/log" >&2
sinfo >&2 || true
exit 1
