#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build, start a simulated
# three-node Cassandra 4.1 cluster with one cassandra-agent per node (each with
# its own desired state, config directory and socket), apply desired states, and
# show `cassandra-agent status` for every node as things change. Everything
# lives under ./demo; the agents are stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-dependencies.sh
swift build -c release
bin=$PWD/.build/release
demo=$PWD/demo
rm -rf "$demo" && mkdir -p "$demo"
trap 'pkill -TERM -f "cassandra-agent run --config $demo/" 2>/dev/null || true' EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@" || echo "(exit $?)"; }
# grep -c exits 1 when it counts nothing, which is the outcome the demo hopes for: print the count only.
count_lines() { grep -c "$1" "$2" || true; }
nodes=(127.0.1.1 127.0.1.2 127.0.1.3)

step "$bin/cassandra-sim" init --dir "$demo/sim" --version 4.1 --datacenters WESTUS:3x1 --name CustomerService --gossip-delay 1 --repair-seconds 1.5

desired_state() {  # node rack [extra settings]
  cat <<YAML
apiVersion: cassandra-agent/v1
cassandra:
  version: "4.1"
cluster:
  name: CustomerService
  seeds: ["127.0.1.1", "127.0.1.2"]
node:
  datacenter: WESTUS
  rack: $2
  listenAddress: $1
settings:
  num_tokens: 16
  compaction_throughput: 64MiB/s
  read_request_timeout_in_ms: 5000
  data_file_directories: [$demo/sim/nodes/$1/data]
  commitlog_directory: $demo/sim/nodes/$1
${3:-}
repair:
  enabled: true
  schedule: "0 1 * * SUN"
  type: primary-range
  segmentTimeout: 30m
backup:
  enabled: true
  schedule: "0 3 * * *"
  retention: 7d
  destination: file://$demo/backups
blackouts:
  - "2026-12-24T00:00Z/2026-12-27T00:00Z"
YAML
}

for i in 0 1 2; do
  node=${nodes[$i]}
  dir=$demo/node$((i + 1))
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
resyncSeconds: 1
YAML
  "$bin/cassandra-agent" run --config "$dir/agent.yaml" 2> "$dir/agent.log" &
  desired_state "$node" "rack$((i + 1))" > "$dir/desired-state.yaml"
done
sleep 3
for i in 1 2 3; do step "$bin/cassandra-agent" status --config "$demo/node$i/agent.yaml"; done

echo; echo "# Cassandra restarts pick up the new files (what the patch-window issue will automate):"
for node in "${nodes[@]}"; do step "$bin/cassandra-sim" systemctl --dir "$demo/sim" --node "$node" restart cassandra.service; done
sleep 2.5
step "$bin/cassandra-agent" status --config "$demo/node1/agent.yaml"

echo; echo "# A live-settable change on node 1: applied with nodetool, no restart:"
desired_state 127.0.1.1 rack1 | sed 's/compaction_throughput: 64MiB\/s/compaction_throughput: 128MiB\/s/' > "$demo/node1/desired-state.yaml"
sleep 1.5
step "$bin/cassandra-agent" status --config "$demo/node1/agent.yaml"

echo; echo "# A repair on node 1, now (its schedule runs it Sundays at 01:00 UTC plus this node's splay):"
step "$bin/cassandra-agent" job start repair --config "$demo/node1/agent.yaml"
echo "# ... a second one is refused while the first holds the node:"
step "$bin/cassandra-agent" job start repair --config "$demo/node1/agent.yaml"
sleep 2
step "$bin/cassandra-agent" jobs --config "$demo/node1/agent.yaml"
sleep 5
step "$bin/cassandra-agent" jobs --config "$demo/node1/agent.yaml"

echo; echo "# A backup of node 1: snapshot, every SSTable stored under its SHA-256, manifest last, snapshot cleared:"
wait_backup() { for _ in $(seq 1 100); do "$bin/cassandra-agent" jobs --config "$demo/node1/agent.yaml" | grep -A1 '^backup:' | grep -q 'running' || break; sleep 0.2; done; }
step "$bin/cassandra-agent" job start backup --config "$demo/node1/agent.yaml"; sleep 0.5; wait_backup
step "$bin/cassandra-agent" jobs --config "$demo/node1/agent.yaml"
echo "# ... a second one right after uploads nothing (every SSTable is stored already):"
sleep 1
step "$bin/cassandra-agent" job start backup --config "$demo/node1/agent.yaml"; sleep 0.5; wait_backup
step "$bin/cassandra-agent" backup list --config "$demo/node1/agent.yaml"
latest=$("$bin/cassandra-agent" backup list --json --config "$demo/node1/agent.yaml" | python3 -c 'import json,sys; print(json.load(sys.stdin)["backups"][-1]["id"])')
step "$bin/cassandra-agent" backup verify "$latest" --config "$demo/node1/agent.yaml"
echo "# The shop keyspace's SSTables are deleted on node 1, then restored from the backup (nodetool import):"
rm -f "$demo"/sim/nodes/127.0.1.1/data/shop/*/nb-*
step "$bin/cassandra-agent" backup restore "$latest" --keyspace shop --dry-run --config "$demo/node1/agent.yaml"
step "$bin/cassandra-agent" backup restore "$latest" --keyspace shop --config "$demo/node1/agent.yaml"
step ls "$demo"/sim/nodes/127.0.1.1/data/shop/

echo; echo "# Node 2's Cassandra stops: its agent goes CRITICAL, the others see a peer down:"
step "$bin/cassandra-sim" systemctl --dir "$demo/sim" --node 127.0.1.2 stop cassandra.service
sleep 2.5
step "$bin/cassandra-agent" status --config "$demo/node2/agent.yaml"
step "$bin/cassandra-agent" status --config "$demo/node3/agent.yaml"

echo; echo "# A broken desired state on node 3 is refused whole; the last good one stays in force:"
desired_state 127.0.1.3 rack3 "  concurent_writes: 64
  write_request_timeout: 5000" > "$demo/node3/desired-state.yaml"
sleep 1.5
step "$bin/cassandra-agent" status --config "$demo/node3/agent.yaml"

echo; echo "# Someone edits node 1's cassandra.yaml by hand: the agent puts it back."
echo "concurrent_reads: 999" >> "$demo/sim/nodes/127.0.1.1/conf/cassandra.yaml"
sleep 2
echo "# Lines that still hold the hand edit (0: it was put back):"
step count_lines "concurrent_reads: 999" "$demo/sim/nodes/127.0.1.1/conf/cassandra.yaml"
step curl -s --unix-socket "$demo/node1/agent.sock" http://localhost/v1/health
echo
echo "Agents' logs: $demo/node*/agent.log; rendered files: $demo/sim/nodes/*/conf. Stopping the agents."

echo; echo "# Rolling-restart patch windows: a 6-node, 3-rack cluster with one agent per node (scripts/demo-patching.sh):"
bash scripts/demo-patching.sh --no-build

echo; echo "# Adding a datacenter (hybrid cluster): checklist, rebuilds in turns, a decommission (scripts/demo-hybrid.sh):"
bash scripts/demo-hybrid.sh --no-build
