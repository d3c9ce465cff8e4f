#!/usr/bin/env python3
"""Backup throughput, on one run over the same files (a simulated node with >= 1 GiB of SSTables):

  - file:// backup (read, SHA-256, write, fsync, rename) against `cp -r` of the data directory
    (target >= 0.9x);
  - an unchanged second backup: its time and the bytes it stored (target 0 bytes, <= 5 % of the
    first's time);
  - s3:// backup to moto's S3-compatible server against boto3's upload_file of the same files, each
    to a fresh server after a sync, twice each in the order agent, boto3, boto3, agent, best of
    each (target >= 1x), and the CPU moto spent on each (the server is the bottleneck
    here, so this says whose requests cost it more, whatever else loads the machine).

    swift build -c release && python3 bench/backup-bench.py [GIB]

Uses the static builds in .build-static when both the agent and the simulator are there (what
ships; built with `swift build -c release --static-swift-stdlib --scratch-path .build-static
--product cassandra-agent`, and again with `--product cassandra-sim`), else .build/release (or
.build/debug), and the moto venv of scripts/s3-test-venv.sh. Both sides read from a warm page
cache (cp -r runs first). The unchanged backup runs five times (the median counts), and the
simulator's own `nodetool snapshot` + `clearsnapshot` are timed beside it: they are the stand-in's
cost, not the agent's (a real nodetool starts a JVM, about a second each).
"""
import json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.request

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.join(root, ".build-static", "release")
if not all(os.path.exists(os.path.join(build, exe)) for exe in ("cassandra-agent", "cassandra-sim")):
    build = os.path.join(root, ".build", "release")
if not os.path.exists(os.path.join(build, "cassandra-agent")):
    build = os.path.join(root, ".build", "debug")
agent, sim = os.path.join(build, "cassandra-agent"), os.path.join(build, "cassandra-sim")
gib = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
venv = os.environ.get("CASSANDRA_AGENT_S3_VENV") or subprocess.run(["bash", os.path.join(root, "scripts/s3-test-venv.sh")], capture_output=True, text=True, check=True).stdout.strip()

work = tempfile.mkdtemp(prefix="backup-bench-", dir=os.environ.get("BENCH_DIR", "/var/tmp"))
procs = []


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, **kw)


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port


def request(method, path):
    """One request on the agent's socket: (status, body)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(f"{work}/agent.sock")
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        s.close()
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    if not head.strip():
        raise OSError("the agent closed the connection without an answer")
    return int(head.split()[1]), body.decode()


def jobs():
    """GET /v1/jobs straight from the socket: polling with `cassandra-agent jobs` would add a
    process start (10-20 ms) to every sample, which is more than an unchanged backup's budget."""
    try:
        _, body = request("GET", "/v1/jobs")
    except OSError:
        return {}
    return json.loads(body) if body.strip() else {}


def backup():
    """Starts a backup the way `cassandra-agent job start backup` does (POST /v1/jobs/backup/start,
    without that process's own start-up, 5-10 ms, which is not the backup's), waits for its end;
    returns (seconds, lastRun)."""
    before = (jobs().get("backup") or {}).get("lastRun", {}) or {}
    start = time.monotonic()
    status, body = request("POST", "/v1/jobs/backup/start")
    if status != 202 and status != 200:
        sys.exit(f"job start backup: {status} {body}")
    while True:
        job = jobs().get("backup") or {}
        last = job.get("lastRun") or {}
        if last.get("id") and last.get("id") != before.get("id") and not job.get("current"):
            return time.monotonic() - start, last
        time.sleep(0.005)


def metric(name, labels):
    body = run("curl", "-s", "--unix-socket", f"{work}/agent.sock", "http://localhost/metrics").stdout
    for line in body.splitlines():
        if line.startswith(name + labels):
            return float(line.split()[-1])
    return None


def desired(destination, s3=""):
    return f"""apiVersion: cassandra-agent/v1
cassandra: {{version: "4.1"}}
cluster: {{name: Bench, seeds: ["127.0.1.1"]}}
node: {{datacenter: DC1, rack: rack1, listenAddress: 127.0.1.1}}
settings:
  data_file_directories: [{work}/sim/nodes/127.0.1.1/data]
  commitlog_directory: {work}/sim/nodes/127.0.1.1
backup:
  enabled: true
  schedule: "0 3 * * *"
  retention: 7d
  splay: 0s
  destination: {destination}
{s3}"""


def cpu_seconds(pid):
    """User + system CPU a process has used: what the S3 server spent on each client's requests."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def drop(text):
    with open(f"{work}/etc/.ds.tmp", "w") as f:
        f.write(text)
    os.rename(f"{work}/etc/.ds.tmp", f"{work}/etc/desired-state.yaml")


try:
    # 4 Data.db files on the simulated node (2 tables x 2 SSTables): each gib/4.
    size = int(gib * (1 << 30) / 4)
    r = run(sim, "init", "--dir", f"{work}/sim", "--version", "4.1", "--datacenters", "DC1:1x1", "--name", "Bench", "--sstable-bytes", str(size))
    if r.returncode != 0:
        sys.exit(r.stderr)
    data = f"{work}/sim/nodes/127.0.1.1/data"
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(data) for f in fs)
    os.makedirs(f"{work}/etc")
    with open(f"{work}/agent.yaml", "w") as f:
        f.write(f"""desiredState: {work}/etc/desired-state.yaml
cassandraConfigDirectory: {work}/sim/nodes/127.0.1.1/conf
stateDirectory: {work}/state
socket: {work}/agent.sock
adminGroup: root
nodetool: ["{sim}", "nodetool", "--dir", "{work}/sim", "--node", "127.0.1.1"]
systemctl: ["{sim}", "systemctl", "--dir", "{work}/sim", "--node", "127.0.1.1"]
files: {{owner: root, group: root, mode: "0640"}}
observeSeconds: 5
""")
    print(f"data: {total / (1 << 20):.0f} MiB of SSTables in {data} ({build})")

    # The simulator has just written the SSTables: flush them first, so that cp's sync (and the
    # backup's fsyncs) wait for their own writes only.
    subprocess.run(["sync"], check=True)
    start = time.monotonic()
    subprocess.run(["cp", "-r", data, f"{work}/cp-copy"], check=True)
    subprocess.run(["sync"], check=True)
    cp = time.monotonic() - start
    shutil.rmtree(f"{work}/cp-copy")

    drop(desired(f"file://{work}/backups"))
    procs.append(subprocess.Popen([agent, "run", "--config", f"{work}/agent.yaml"], stderr=subprocess.DEVNULL))
    # Idle and enabled: the desired state with the backup section is in force.
    while not ((jobs().get("backup") or {}).get("state") == "idle" and (jobs().get("backup") or {}).get("enabled")):
        time.sleep(0.1)
    first, last = backup()
    if last.get("result") != "succeeded":
        sys.exit(f"backup failed: {last}")
    pid = procs[-1].pid
    for label in ["plain", "perf"]:
        st = None
        if label == "perf":
            st = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "4000", "-g", "-o", "/tmp/lk/agent.data", "-p", str(pid)], stderr=open("/tmp/lk/pstat.txt", "w"))
            time.sleep(0.5)
        ts = []
        for n in range(6):
            t, l = backup(); ts.append(round(t * 1000))
        print(label, ts)
        if st:
            st.send_signal(2); st.wait()


finally:
    for p in procs:
        p.terminate()
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(work, ignore_errors=True)
