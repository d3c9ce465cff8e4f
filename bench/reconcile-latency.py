#!/usr/bin/env python3
"""How long `cassandra-agent run` takes from a dropped desired-state file to the
rendered cassandra.yaml being installed (target: within a second), against a
simulated node, plus the agent's resident memory once settled.

    swift build -c release && python3 bench/reconcile-latency.py [ROUNDS]
"""
import os, shutil, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
agent = os.path.join(root, ".build", "release", "cassandra-agent")
sim = os.path.join(root, ".build", "release", "cassandra-sim")
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
for exe in (agent, sim):
    if not os.path.exists(exe):
        sys.exit(f"build first: swift build -c release ({exe} missing)")

work = tempfile.mkdtemp(prefix="reconcile-bench-")
try:
    subprocess.run([sim, "init", "--dir", f"{work}/sim", "--version", "4.1", "--datacenters", "DC1:3x1", "--name", "Bench"], check=True, stdout=subprocess.DEVNULL)
    conf = f"{work}/sim/nodes/127.0.1.1/conf"
    with open(f"{work}/agent.yaml", "w") as f:
        f.write(f"""desiredState: {work}/etc/desired-state.yaml
cassandraConfigDirectory: {conf}
stateDirectory: {work}/state
socket: {work}/agent.sock
adminGroup: root
nodetool: ["{sim}", "nodetool", "--dir", "{work}/sim", "--node", "127.0.1.1"]
systemctl: ["{sim}", "systemctl", "--dir", "{work}/sim", "--node", "127.0.1.1"]
files: {{owner: root, group: root, mode: "0640"}}
""")
    os.makedirs(f"{work}/etc")
    process = subprocess.Popen([agent, "run", "--config", f"{work}/agent.yaml"], stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    latencies = []
    for i in range(rounds):
        marker = f"num_tokens: {8 + i}"
        text = f"""apiVersion: cassandra-agent/v1
cassandra: {{version: "4.1"}}
cluster: {{name: Bench, seeds: ["127.0.1.1"]}}
node: {{datacenter: DC1, rack: rack1, listenAddress: 127.0.1.1}}
settings:
  {marker}
"""
        with open(f"{work}/etc/.tmp", "w") as f:
            f.write(text)
        start = time.perf_counter()
        os.rename(f"{work}/etc/.tmp", f"{work}/etc/desired-state.yaml")
        while True:
            try:
                with open(f"{conf}/cassandra.yaml") as f:
                    if f"\n{marker}\n" in f.read():
                        break
            except FileNotFoundError:
                pass
            if time.perf_counter() - start > 10:
                sys.exit("the agent did not install the file within 10 s")
            time.sleep(0.002)
        latencies.append((time.perf_counter() - start) * 1000)
        time.sleep(0.3)
    with open(f"/proc/{process.pid}/status") as f:
        rss = next(line for line in f if line.startswith("VmRSS:")).split()[1]
    process.terminate()
    process.wait(timeout=20)
    latencies.sort()
    print(f"drop-to-install {rounds} rounds: p50 {latencies[len(latencies)//2]:.0f} ms, max {latencies[-1]:.0f} ms (target < 1000 ms)")
    print(f"agent resident memory after {rounds} reconciles: {int(rss)/1024:.1f} MiB")
finally:
    shutil.rmtree(work, ignore_errors=True)
