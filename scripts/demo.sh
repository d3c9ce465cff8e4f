#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build, then take each
# example desired state through validate, render, plan and apply into a demo
# node directory under ./demo (nothing outside it is touched), and show a
# rejected file and a rollback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-dependencies.sh
swift build -c release --product cassandra-agent
agent=.build/release/cassandra-agent
demo=$PWD/demo
rm -rf "$demo" && mkdir -p "$demo"
cat > "$demo/agent.yaml" <<YAML
desiredState: $demo/desired-state.yaml
cassandraConfigDirectory: $demo/etc-cassandra
stateDirectory: $demo/state
files:
  owner: $(id -un)
  group: $(id -gn)
  mode: "0640"
YAML

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@" || echo "(exit $?)"; }

for example in etc/examples/*.yaml; do
  step "$agent" validate "$example"
done
step "$agent" render etc/examples/cassandra-4.1.yaml --output "$demo/rendered-4.1"
cp etc/examples/cassandra-4.1.yaml "$demo/desired-state.yaml"
step "$agent" plan --config "$demo/agent.yaml"
step "$agent" apply --config "$demo/agent.yaml"
sed -e 's/compaction_throughput: 128MiB\/s/compaction_throughput: 256MiB\/s/' -e 's/num_tokens: 16/num_tokens: 8/' \
  etc/examples/cassandra-4.1.yaml > "$demo/desired-state.yaml"
step "$agent" plan --config "$demo/agent.yaml"
step "$agent" apply --config "$demo/agent.yaml"
# A broken file (a typo and a bare number where 4.1 wants a unit) is refused whole.
sed -i 's/^settings:$/settings:\n  concurent_writes: 64\n  write_request_timeout: 5000/' "$demo/desired-state.yaml"
step "$agent" apply --config "$demo/agent.yaml"
step "$agent" rollback --list --config "$demo/agent.yaml"
step "$agent" rollback --config "$demo/agent.yaml"
echo
echo "Rendered files: $demo/etc-cassandra; generations: $demo/state/generations"
