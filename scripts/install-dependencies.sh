#!/usr/bin/env bash
# Installs the Debian packages the agent builds and is tested against.
# libyaml-dev: YAML parsing; libssl-dev: OpenSSL (hashes, X.509, PKCS12);
# libsystemd-dev: sd_notify/journal; openjdk-17-jre-headless: keytool and a JVM,
# the real peer for every keystore written; tzdata: the zone files schedules and
# patch windows read (/usr/share/zoneinfo); python3-venv: the venv of the S3-compatible
# test server (scripts/s3-test-venv.sh). Idempotent; needs root.
set -euo pipefail
packages=(pkg-config libyaml-dev libssl-dev libsystemd-dev openjdk-17-jre-headless openssl python3 python3-venv curl systemd util-linux time tzdata)
if [ "${1:-}" = "--print" ]; then echo "${packages[@]}"; exit 0; fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
