#!/usr/bin/env python3
"""How long a whole patch window takes on a simulated cluster with one
`cassandra-agent run` per node (2 nodes per rack), for 3 and 6 racks, against
its floor: racks x (restart + settle), where restart is what the simulator
makes a node take from its start until peers see it UN (start time + gossip
delay) and settle is `patching.settle`, which every rack waits after the
cluster is whole before it goes. The window is opened on every node at once
(`job start patching`) once the agents are idle; the measured time, from
there until every node's turn succeeded, also holds every drain, stop and
patch command and the agents' polling. Target: within 20 % of the floor.

    swift build -c release && python3 bench/patch-window.py [RACKS...]
"""
import json, os, shutil, signal, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.environ.get("BENCH_BIN", os.path.join(root, ".build", "release"))
agent = os.path.join(build, "cassandra-agent")
sim = os.path.join(build, "cassandra-sim")
for exe in (agent, sim):
    if not os.path.exists(exe):
        sys.exit(f"build first: swift build -c release ({exe} missing)")

START, GOSSIP, SETTLE, POLL = 4.0, 1.0, 3.0, 0.5


def window(racks):
    work = tempfile.mkdtemp(prefix="patch-bench-")
    processes = []
    try:
        subprocess.run([sim, "init", "--dir", f"{work}/sim", "--version", "4.1", "--datacenters", f"DC1:{racks}x2", "--name", "Bench",
                        "--gossip-delay", str(GOSSIP), "--start-seconds", str(START)], check=True, stdout=subprocess.DEVNULL)
        # A scheduled window that is not open now: the window is opened with `job start patching` on every node at once.
        later = time.gmtime(time.time() + 6 * 3600)
        span = f"{later.tm_hour:02d}:{later.tm_min:02d}-{(later.tm_hour + 1) % 24:02d}:{later.tm_min:02d}"
        nodes = [f"127.0.1.{i + 1}" for i in range(racks * 2)]
        for i, node in enumerate(nodes):
            d = f"{work}/n{i}"
            os.makedirs(d)
            with open(f"{d}/agent.yaml", "w") as f:
                f.write(f"""desiredState: {d}/desired-state.yaml
cassandraConfigDirectory: {work}/sim/nodes/{node}/conf
stateDirectory: {d}/state
socket: {d}/agent.sock
adminGroup: root
nodetool: ["{sim}", "nodetool", "--dir", "{work}/sim", "--node", "{node}"]
systemctl: ["{sim}", "systemctl", "--dir", "{work}/sim", "--node", "{node}"]
files: {{owner: root, group: root, mode: "0640"}}
observeSeconds: 1
resyncSeconds: 5
""")
            with open(f"{d}/desired-state.yaml", "w") as f:
                f.write(f"""apiVersion: cassandra-agent/v1
cassandra: {{version: "4.1"}}
cluster: {{name: Bench, seeds: ["127.0.1.1"]}}
node: {{datacenter: DC1, rack: rack{i // 2 + 1}, listenAddress: {node}}}
settings:
  data_file_directories: [{work}/sim/nodes/{node}/data]
  commitlog_directory: {work}/sim/nodes/{node}
patching:
  enabled: true
  window: "* {span}"
  command: ["{sim}", "patch", "--dir", "{work}/sim", "--node", "{node}"]
  reboot: never
  settle: {int(SETTLE)}s
  pollInterval: {int(POLL * 1000)}ms
""")
        for i in range(len(nodes)):
            processes.append(subprocess.Popen([agent, "run", "--config", f"{work}/n{i}/agent.yaml"], stderr=subprocess.DEVNULL))

        def job(i):
            out = subprocess.run([agent, "jobs", "--json", "--socket", f"{work}/n{i}/agent.sock"], capture_output=True, text=True)
            try:
                return json.loads(out.stdout).get("patching") or {}
            except ValueError:
                return {}

        deadline = time.time() + 60
        while time.time() < deadline and not all(job(i).get("state") == "idle" for i in range(len(nodes))):
            time.sleep(0.2)
        began = time.time()
        for i in range(len(nodes)):
            subprocess.run([agent, "job", "start", "patching", "--socket", f"{work}/n{i}/agent.sock"], check=True, stdout=subprocess.DEVNULL)

        def last(i):
            out = subprocess.run([agent, "jobs", "--json", "--socket", f"{work}/n{i}/agent.sock"], capture_output=True, text=True)
            try:
                return (json.loads(out.stdout).get("patching") or {}).get("lastRun")
            except ValueError:
                return None

        while time.time() - began < 600:
            runs = [last(i) for i in range(len(nodes))]
            if all(r and r.get("result") == "succeeded" for r in runs):
                break
            time.sleep(0.2)
        else:
            sys.exit(f"{racks} racks: the window did not finish in 10 minutes")
        cluster = json.load(open(f"{work}/sim/cluster.json"))
        return time.time() - began, cluster
    finally:
        for p in processes:
            p.send_signal(signal.SIGTERM)
        for p in processes:
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


racks_list = [int(a) for a in sys.argv[1:]] or [3, 6]
print(f"simulated start {START:g}s, gossip delay {GOSSIP:g}s, patching.settle {SETTLE:g}s, poll {POLL:g}s; 2 nodes per rack; "
      f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (every agent polls nodetool: a loaded machine adds to each rack)")
for racks in racks_list:
    elapsed, _ = window(racks)
    floor = racks * (START + GOSSIP + SETTLE)
    print(f"{racks} racks ({racks * 2} nodes): window {elapsed:6.1f}s, floor racks x (restart + settle) = {floor:5.1f}s, "
          f"{(elapsed / floor - 1) * 100:+5.1f}% over")
