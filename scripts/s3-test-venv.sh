#!/usr/bin/env bash
# Creates (once) the Python venv with moto's S3-compatible server and boto3 that the
# backup tests use, and prints its path. The https tests run the same moto_server with
# --ssl-cert/--ssl-key (Werkzeug serves TLS with Python's own ssl module, so no package
# beyond these; the certificates come from the test PKI, made with the openssl CLI). Idempotent and quick when it exists:
# the tests find it through $CASSANDRA_AGENT_S3_VENV or at .build/s3-venv.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${CASSANDRA_AGENT_S3_VENV:-$PWD/.build/s3-venv}"
if [ ! -x "$venv/bin/moto_server" ] || ! "$venv/bin/python" -c 'import boto3, moto, ssl' 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q 'moto[server]' boto3 >&2
fi
echo "$venv"
