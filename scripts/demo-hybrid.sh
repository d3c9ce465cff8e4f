#!/usr/bin/env bash
# Adding a datacenter to a simulated Cassandra 4.1 cluster, the hybrid-cluster
# runbook's way, with one cassandra-agent per node of the new datacenter:
# the checklist in status, a rebuild from a wrong datacenter refused before
# anything streams, ALTER KEYSPACE, then all new nodes started at once rebuild
# one at a time with their progress in status; finally a node of the old
# datacenter is decommissioned. Everything lives under ./demo-hybrid; the
# agents are stopped at the end. `scripts/demo.sh` runs it last; alone:
#   scripts/demo-hybrid.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
[[ "${1:-}" == "--no-build" ]] || swift build -c release
bin=${DEMO_BIN:-$PWD/.build/release}
demo=$PWD/demo-hybrid
rm -rf "$demo" && mkdir -p "$demo"
pids=()
stop_agents() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop_agents EXIT

# ONPREM holds the data; MANAGED has just joined: no data, no keyspace replicates to it yet.
"$bin/cassandra-sim" init --dir "$demo/sim" --version 4.1 --datacenters ONPREM:3x1,MANAGED:3x1 --new-datacenter MANAGED \
  --name HybridOrders --gossip-delay 1 --stream-bytes-per-second 250000000 > /dev/null
new=(127.0.2.1 127.0.2.2 127.0.2.3)
agent_for() {   # node datacenter rack
  local node=$1 dc=$2 rack=$3 dir=$demo/$1
  mkdir -p "$dir"
  cat > "$dir/agent.yaml" <<YAML
desiredState: $dir/desired-state.yaml
cassandraConfigDirectory: $demo/sim/nodes/$node/conf
stateDirectory: $dir/state
socket: $dir/agent.sock
adminGroup: $(id -gn)
nodetool: ["$bin/cassandra-sim", "nodetool", "--dir", "$demo/sim", "--node", "$node"]
systemctl: ["$bin/cassandra-sim", "systemctl", "--dir", "$demo/sim", "--node", "$node"]
files: {owner: $(id -un), group: $(id -gn), mode: "0640"}
observeSeconds: 1
resyncSeconds: 2
YAML
  cat > "$dir/desired-state.yaml" <<YAML
apiVersion: cassandra-agent/v1
cassandra: {version: "4.1"}
cluster: {name: HybridOrders, seeds: ["127.0.1.1", "127.0.1.2", "127.0.2.1", "127.0.2.2"]}
node: {datacenter: $dc, rack: $rack, listenAddress: $node}
settings:
  data_file_directories: [$demo/sim/nodes/$node/data]
  commitlog_directory: $demo/sim/nodes/$node
repair: {enabled: false}            # the runbook pauses repairs while datacenters change
rebuild: {pollInterval: 500ms, stagger: 1s}
decommission: {pollInterval: 500ms}
YAML
  "$bin/cassandra-agent" run --config "$dir/agent.yaml" 2> "$dir/agent.log" &
  pids+=($!)
}
for i in 0 1 2; do agent_for "${new[$i]}" MANAGED "rack$((i + 1))"; done
agent_for 127.0.1.3 ONPREM rack3
cli() { local node=$1; shift; "$bin/cassandra-agent" "$@" --config "$demo/$node/agent.yaml"; }
sleep 4

echo "# The hybrid checklist on 127.0.2.1 (status): what the runbook still asks for"
{ cli 127.0.2.1 status --json || true; } | jq -r '.hybrid.items[] | "  \(if .inPlace then "ok     " else "MISSING" end) \(.item): \(.detail)"'

echo; echo "# A rebuild from a datacenter that does not exist, and one before ALTER KEYSPACE: refused, nothing streams"
cli 127.0.2.1 job start rebuild --source-dc managed
sleep 2
cli 127.0.2.1 jobs --json | jq -r '"  " + .rebuild.lastRun.reason'
cli 127.0.2.1 job start rebuild --source-dc ONPREM
sleep 2
cli 127.0.2.1 jobs --json | jq -r '"  " + .rebuild.lastRun.reason'
echo "  stream plans Cassandra ran: $("$bin/cassandra-sim" streams --dir "$demo/sim" | wc -l)"

echo; echo "# ALTER KEYSPACE ... {'ONPREM': 3, 'MANAGED': 3} for shop and the system keyspaces, as the runbook says"
for ks in shop system_auth system_distributed system_traces; do
  "$bin/cassandra-sim" keyspace --dir "$demo/sim" "$ks" --replication ONPREM:3,MANAGED:3
done

echo; echo "# Every new node is told to rebuild at once; rebuild.maxParallelPerDatacenter (1) makes them take turns:"
for node in "${new[@]}"; do cli "$node" job start rebuild --source-dc ONPREM; done
deadline=$((SECONDS + 120))
while (( SECONDS < deadline )); do
  out=""
  for node in "${new[@]}"; do
    out+=$(cli "$node" jobs --json | jq -r --arg n "$node" '.rebuild as $r |
      if $r.current then "  \($n)  \($r.current.step)  \(if $r.current.bytes then "\($r.current.bytesDone / 1048576 | floor) of \($r.current.bytes / 1048576 | floor) MiB" else "" end)  \($r.current.postponed // "" | .[0:80])"
      else "  \($n)  \($r.lastRun.result // "-")" end')$'\n'
  done
  [[ -t 1 ]] && printf '\033[H\033[J'
  printf '%s\n' "$out"
  (( $(grep -c " succeeded" <<< "$out" || true) == 3 )) && break
  sleep 1
done
echo "# The rebuilds Cassandra ran (plan, operation, node, state): one at a time"
"$bin/cassandra-sim" streams --dir "$demo/sim" | cut -f2-5

echo; echo "# Decommissioning 127.0.1.3 of ONPREM would leave shop 2 nodes for 3 replicas there: refused"
cli 127.0.1.3 job start decommission
sleep 2
cli 127.0.1.3 jobs --json | jq -r '"  " + .decommission.lastRun.reason'
echo "# After ALTER KEYSPACE shop ... {'ONPREM': 2, 'MANAGED': 3}, it leaves:"
"$bin/cassandra-sim" keyspace --dir "$demo/sim" shop --replication ONPREM:2,MANAGED:3
for ks in system_auth system_distributed system_traces; do
  "$bin/cassandra-sim" keyspace --dir "$demo/sim" "$ks" --replication ONPREM:2,MANAGED:3
done
cli 127.0.1.3 job start decommission
for _ in $(seq 60); do
  [[ $(cli 127.0.1.3 jobs --json | jq -r '.decommission.lastRun.id // ""') == decommission-* ]] \
    && [[ $(cli 127.0.1.3 jobs --json | jq -r '.decommission.current') == null ]] && break
  sleep 1
done
cli 127.0.1.3 jobs --json | jq -r '"  " + .decommission.lastRun.result + ": " + .decommission.lastRun.reason'
sleep 2
echo "# Its status says it has left; nothing pages:"
cli 127.0.1.3 status || true
echo
echo "Agents' logs: $demo/*/agent.log. Stopping the agents."
