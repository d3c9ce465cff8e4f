#!/usr/bin/env bash
# Builds cassandra-agent_<version>_<arch>.deb with dpkg-deb: the binary, the
# systemd units, sysusers/tmpfiles entries, the default config (a conffile),
# shell completions generated from the binary's own --help, and the README.
#
#   packaging/build-deb.sh [--binary PATH] [--version X.Y.Z] [--output DIR]
# Without --binary it builds the binary it ships: release, with the Swift
# standard library and Foundation linked in statically, because a Cassandra
# host has no Swift toolchain (and a package that needs one would not start).
set -euo pipefail
cd "$(dirname "$0")/.."
binary="" version="0.1.0" output="$PWD/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    --output) output="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$binary" ]; then
  swift build -c release --static-swift-stdlib --product cassandra-agent --scratch-path .build-static >&2
  binary=.build-static/release/cassandra-agent
fi
# Whatever binary is shipped must not need the Swift runtime at run time.
# (CASSANDRA_AGENT_ALLOW_DYNAMIC=1: a test packaging a debug binary.)
if [ -z "${CASSANDRA_AGENT_ALLOW_DYNAMIC:-}" ] && readelf -d "$binary" | grep -E 'NEEDED.*(libswift|libFoundation|libdispatch|libBlocksRuntime)' >&2; then
  echo "$binary needs the Swift runtime (shown above): build it with --static-swift-stdlib" >&2
  exit 1
fi
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

install -D -m 0755 "$binary" "$stage/usr/bin/cassandra-agent"
install -D -m 0644 packaging/systemd/cassandra-agent.service "$stage/lib/systemd/system/cassandra-agent.service"
install -D -m 0644 packaging/systemd/cassandra-agent.socket "$stage/lib/systemd/system/cassandra-agent.socket"
install -D -m 0644 packaging/systemd/cassandra-agent.sysusers "$stage/usr/lib/sysusers.d/cassandra-agent.conf"
install -D -m 0644 packaging/systemd/cassandra-agent.tmpfiles "$stage/usr/lib/tmpfiles.d/cassandra-agent.conf"
install -D -m 0644 etc/cassandra-agent/agent.yaml "$stage/etc/cassandra-agent/agent.yaml"
install -D -m 0644 README.md "$stage/usr/share/doc/cassandra-agent/README.md"
for example in etc/examples/*.yaml; do
  install -D -m 0644 "$example" "$stage/usr/share/doc/cassandra-agent/examples/$(basename "$example")"
done
"$binary" --generate-completion-script bash > "$stage/cassandra-agent.bash"
install -D -m 0644 "$stage/cassandra-agent.bash" "$stage/usr/share/bash-completion/completions/cassandra-agent" && rm "$stage/cassandra-agent.bash"
"$binary" --generate-completion-script zsh > "$stage/_cassandra-agent"
install -D -m 0644 "$stage/_cassandra-agent" "$stage/usr/share/zsh/vendor-completions/_cassandra-agent" && rm "$stage/_cassandra-agent"

mkdir -p "$stage/DEBIAN"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" packaging/debian/control.in > "$stage/DEBIAN/control"
echo "/etc/cassandra-agent/agent.yaml" > "$stage/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst packaging/debian/prerm "$stage/DEBIAN/"
mkdir -p "$output"
dpkg-deb --root-owner-group --build "$stage" "$output/cassandra-agent_${version}_${arch}.deb" >/dev/null
echo "$output/cassandra-agent_${version}_${arch}.deb"
