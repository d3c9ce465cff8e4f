#!/usr/bin/env bash
# The rolling-restart patch window on a simulated 6-node, 3-rack Cassandra 4.1
# cluster with one cassandra-agent per node: the agents agree from gossip alone
# whose rack goes, drain, stop, patch and start their node rack by rack (a live
# table shows it), then a node that fails to start halts the next window for the
# whole cluster. Everything lives under ./demo-patching; the agents are stopped
# at the end. `scripts/demo.sh` runs it after its own part; alone:
#   scripts/demo-patching.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
[[ "${1:-}" == "--no-build" ]] || swift build -c release
bin=${DEMO_BIN:-$PWD/.build/release}
demo=$PWD/demo-patching
rm -rf "$demo" && mkdir -p "$demo"
pids=()
stop_agents() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop_agents EXIT

nodes=(127.0.1.1 127.0.1.2 127.0.1.3 127.0.1.4 127.0.1.5 127.0.1.6)
"$bin/cassandra-sim" init --dir "$demo/sim" --version 4.1 --datacenters WESTUS:3x2 --name CustomerService \
  --gossip-delay 1 --start-seconds 2 > /dev/null

# A window open from a minute ago for two hours (UTC), so the demo needs no waiting for Sunday.
open_at=$(date -u -d '-1 minute' +%H:%M); close_at=$(date -u -d '+2 hours' +%H:%M)
for i in 0 1 2 3 4 5; do
  node=${nodes[$i]} dir=$demo/node$((i + 1))
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
  cat > "$dir/desired-state.yaml" <<YAML
apiVersion: cassandra-agent/v1
cassandra: {version: "4.1"}
cluster: {name: CustomerService, seeds: ["127.0.1.1", "127.0.1.3"]}
node: {datacenter: WESTUS, rack: rack$((i / 2 + 1)), listenAddress: $node}
settings:
  data_file_directories: [$demo/sim/nodes/$node/data]
  commitlog_directory: $demo/sim/nodes/$node
patching:
  enabled: true
  window: "* $open_at-$close_at"
  command: ["$bin/cassandra-sim", "patch", "--dir", "$demo/sim", "--node", "$node"]
  reboot: never
  settle: 3s
  pollInterval: 500ms
  upTimeout: 30s
YAML
  "$bin/cassandra-agent" run --config "$dir/agent.yaml" 2> "$dir/agent.log" &
  pids+=($!)
done

# One line per node: what the simulator's Cassandra does, and what its agent says.
table() {
  local state; state=$("$bin/cassandra-sim" nodes --dir "$demo/sim")
  printf '\033[1m%-10s %-6s %-9s %-8s %-58s %s\033[0m\n' node rack cassandra health "patching step" "last turn"
  for i in 0 1 2 3 4 5; do
    local node=${nodes[$i]} json
    json=$("$bin/cassandra-agent" status --json --config "$demo/node$((i + 1))/agent.yaml" 2>/dev/null || true)
    local cass; cass=$(awk -v n="$node" '$1 == n { print $4 }' <<< "$state")
    printf '%-10s %-6s %-9s %-8s %-58.58s %s\n' "$node" "rack$((i / 2 + 1))" "$cass" \
      "$(jq -r '.health // "?"' <<< "${json:-{\}}")" \
      "$(jq -r '.jobs.patching.patching.step // .jobs.patching.stateReason // "-"' <<< "${json:-{\}}")" \
      "$(jq -r '.jobs.patching.lastRun.result // "-"' <<< "${json:-{\}}")"
  done
  printf 'turn: %s\n' "$("$bin/cassandra-agent" status --json --config "$demo/node6/agent.yaml" 2>/dev/null | jq -r '.jobs.patching.patching.turn // "-"')"
}

# Redraws the table every half second until `$1` nodes report `$2` as their last turn (or 3 minutes pass).
watch_until() {
  local want=$1 result=$2 deadline=$((SECONDS + 180)) out
  while (( SECONDS < deadline )); do
    out=$(table)
    [[ -t 1 ]] && printf '\033[H\033[J'
    echo "$out"; echo
    (( $(grep -c " $result\$" <<< "$out" || true) >= want )) && return 0
    sleep 0.5
  done
}

echo "# The window \"* $open_at-$close_at\" is open: rack1, then rack2, then rack3, each drained before it stops:"
watch_until 6 succeeded
echo "# What each simulated node went through, in order:"
for node in "${nodes[@]}"; do
  printf '%s  %s\n' "$node" "$(jq -r --arg n "$node" '.nodes[] | select(.address == $n) | .events | join(" -> ")' "$demo/sim/cluster.json")"
done

echo; echo "# Node 127.0.1.3 (rack2) will fail to start. An ad-hoc window on every node (job start patching):"
"$bin/cassandra-sim" fault --dir "$demo/sim" --node 127.0.1.3 fail-start
for i in 1 2 3 4 5 6; do "$bin/cassandra-agent" job start patching --config "$demo/node$i/agent.yaml"; done
sleep 1
watch_until 1 failed
sleep 3
table
echo
echo "# 127.0.1.3 is CRITICAL and halts the window; rack3 stays up and warns, naming it:"
"$bin/cassandra-agent" status --config "$demo/node3/agent.yaml" | grep -E "patching|CRITICAL" || true
"$bin/cassandra-agent" status --config "$demo/node5/agent.yaml" | grep -E "patching|WARNING" || true
echo
echo "Agents' logs: $demo/node*/agent.log. Stopping the agents."
