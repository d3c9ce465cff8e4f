#!/usr/bin/env python3
"""The idle daemon's memory next to a trivial FoundationEssentials program's, in
one run: resident (RSS), anonymous, file-backed, proportional (PSS) and private,
from /proc/PID/smaps_rollup. Target: the daemon ≤ 16 MiB resident idle.

    swift build -c release && python3 bench/memory.py
"""
import os, shutil, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
release = os.path.join(root, ".build", "release")
agent, sim = os.path.join(release, "cassandra-agent"), os.path.join(release, "cassandra-sim")
static = os.path.join(root, ".build-static", "release", "cassandra-agent")
for exe in (agent, sim):
    if not os.path.exists(exe):
        sys.exit(f"build first: swift build -c release ({exe} missing)")

def trivial(work):
    """Compiles bench/trivial/hello.swift the way the agent is built (-O, dynamic stdlib, and static too)."""
    out = {}
    for name, extra in [("hello (dynamic stdlib)", []), ("hello (static stdlib)", ["-static-stdlib"])]:
        exe = os.path.join(work, name.split()[1].strip("(") + "-hello")
        subprocess.run(["swiftc", "-O", *extra, os.path.join(root, "bench", "trivial", "hello.swift"), "-o", exe], check=True)
        out[name] = exe
    return out

def rollup(pid):
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1])
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:")):
                fields[line.split(":")[0]] = int(line.split()[1])
    return fields

def row(name, f):
    mib = lambda k: f"{f.get(k, 0) / 1024:6.1f}"
    private = f.get("Private_Clean", 0) + f.get("Private_Dirty", 0)
    print(f"{name:40s} rss {mib('Rss')}  anon {mib('RssAnon')}  file {mib('RssFile')}  pss {mib('Pss')}  private {private / 1024:6.1f}  (MiB)")

work = tempfile.mkdtemp(prefix="memory-bench-")
try:
    for name, exe in trivial(work).items():
        p = subprocess.Popen([exe, "wait"], stdout=subprocess.DEVNULL)
        time.sleep(0.5)
        row(name, rollup(p.pid))
        p.terminate(); p.wait()
    subprocess.run([sim, "init", "--dir", f"{work}/sim", "--version", "4.1", "--datacenters", "DC1:3x1", "--name", "Bench"], check=True, stdout=subprocess.DEVNULL)
    os.makedirs(f"{work}/etc")
    with open(f"{work}/etc/desired-state.yaml", "w") as f:
        f.write("""apiVersion: cassandra-agent/v1
cassandra: {version: "4.1"}
cluster: {name: Bench, seeds: ["127.0.1.1"]}
node: {datacenter: DC1, rack: rack1, listenAddress: 127.0.1.1}
settings: {num_tokens: 16, concurrent_writes: 64}
repair: {enabled: true, schedule: "0 1 * * SUN"}
""")
    with open(f"{work}/agent.yaml", "w") as f:
        f.write(f"""desiredState: {work}/etc/desired-state.yaml
cassandraConfigDirectory: {work}/sim/nodes/127.0.1.1/conf
stateDirectory: {work}/state
socket: {work}/agent.sock
adminGroup: root
nodetool: ["{sim}", "nodetool", "--dir", "{work}/sim", "--node", "127.0.1.1"]
systemctl: ["{sim}", "systemctl", "--dir", "{work}/sim", "--node", "127.0.1.1"]
files: {{owner: root, group: root, mode: "0640"}}
""")
    builds = [("cassandra-agent run (idle)", agent)]
    if os.path.exists(static):
        builds.append(("cassandra-agent run, static (idle)", static))   # what packaging/build-deb.sh ships
    for name, exe in builds:
        p = subprocess.Popen([exe, "run", "--config", f"{work}/agent.yaml"], stderr=subprocess.DEVNULL)
        time.sleep(6)    # start-up, the first reconcile, its pages given back (StartupPages)
        row(name.replace("(idle)", "+6 s"), rollup(p.pid))
        time.sleep(64)   # idle: two resync passes and six observations have run since
        row(name.replace("(idle)", "idle 70 s"), rollup(p.pid))
        subprocess.run([exe, "status", "--config", f"{work}/agent.yaml"], stdout=subprocess.DEVNULL)
        time.sleep(1)
        row(name.replace("(idle)", "+1 status"), rollup(p.pid))
        p.terminate(); p.wait(timeout=20)
    print("target: cassandra-agent run ≤ 16 MiB resident idle (goal 12 MiB); the static build is what packaging/build-deb.sh ships")
finally:
    shutil.rmtree(work, ignore_errors=True)
