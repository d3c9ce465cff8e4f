#!/usr/bin/env python3
"""Writes packaging/symbol-order.txt: the functions the daemon runs, for the
linker (lld --symbol-ordering-file, set in Package.swift) to lay out together.

Why: the kernel maps a binary's code in blocks of 64-256 KiB around each
instruction the process runs (fault-around and large page-cache folios), so code
scattered over the 16 MB text keeps most of it resident. Laid out together, the
idle loop's functions fill a few MiB. The idle loop's functions come first, then
those only start-up runs (StartupPages gives those back after the first pass).

How: the release static build (stripped of DWARF, which valgrind 3.19 cannot
read) runs under callgrind against the simulated cluster: start-up, a dump at
40 s, then 65 s of idle with status, health, metrics and jobs requests.
Needs valgrind (apt install valgrind). A stale file is harmless: names that are
gone are skipped, new functions land after the listed ones.

    swift build -c release --static-swift-stdlib --product cassandra-agent --scratch-path .build-static
    python3 tools/generate-symbol-order.py            # then rebuild to relink
"""
import os, re, shutil, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
agent = os.path.join(root, ".build-static", "release", "cassandra-agent")
sim = os.path.join(root, ".build", "release", "cassandra-sim")
output = os.path.join(root, "packaging", "symbol-order.txt")


def functions(profile, binary_suffix):
    """The mangled names callgrind saw run inside the agent binary."""
    names, objects, found = {}, {}, []
    seen, current_object, callee_object = set(), None, None
    for line in open(profile, errors="replace"):
        line = line.rstrip("\n")
        m = re.match(r"^(c?ob)=\((\d+)\)(?: (.*))?$", line)
        if m:
            kind, ident, name = m.groups()
            if name:
                objects[ident] = name
            if kind == "ob":
                current_object = objects.get(ident)
            else:
                callee_object = objects.get(ident)
            continue
        m = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", line)
        if m:
            kind, ident, name = m.groups()
            if name:
                names[ident] = re.sub(r"'\d+$", "", name)   # callgrind's recursion marks
            obj = current_object if kind == "fn" else callee_object
            if obj and obj.endswith(binary_suffix) and names[ident] not in seen:
                seen.add(names[ident])
                found.append(names[ident])
    return found


def profile(work):
    binary = os.path.join(work, "agent-nodebug")
    subprocess.run(["/opt/swift/usr/bin/llvm-objcopy", "--strip-debug", agent, binary], check=True)
    subprocess.run([sim, "init", "--dir", f"{work}/sim", "--version", "4.1", "--datacenters", "DC1:3x1", "--name", "Order"],
                   check=True, stdout=subprocess.DEVNULL)
    os.makedirs(f"{work}/etc")
    with open(f"{work}/etc/desired-state.yaml", "w") as f:
        f.write('apiVersion: cassandra-agent/v1\ncassandra: {version: "4.1"}\ncluster: {name: Order, seeds: ["127.0.1.1"]}\n'
                'node: {datacenter: DC1, rack: rack1, listenAddress: 127.0.1.1}\nsettings: {num_tokens: 16}\n'
                'repair: {enabled: true, schedule: "0 1 * * SUN"}\n')
    with open(f"{work}/agent.yaml", "w") as f:
        f.write(f'desiredState: {work}/etc/desired-state.yaml\ncassandraConfigDirectory: {work}/sim/nodes/127.0.1.1/conf\n'
                f'stateDirectory: {work}/state\nsocket: {work}/agent.sock\nadminGroup: root\n'
                f'nodetool: ["{sim}", "nodetool", "--dir", "{work}/sim", "--node", "127.0.1.1"]\n'
                f'systemctl: ["{sim}", "systemctl", "--dir", "{work}/sim", "--node", "127.0.1.1"]\n'
                'files: {owner: root, group: root, mode: "0640"}\n')
    out = os.path.join(work, "callgrind.out")
    daemon = subprocess.Popen(["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}",
                               binary, "run", "--config", f"{work}/agent.yaml"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(40)
    subprocess.run(["callgrind_control", "--dump=startup", str(daemon.pid)], check=True, stdout=subprocess.DEVNULL)
    time.sleep(10)
    for _ in range(2):
        subprocess.run([binary, "status", "--config", f"{work}/agent.yaml"], stdout=subprocess.DEVNULL)
        for path in ("/v1/health", "/metrics", "/v1/jobs", "/v1/status"):
            subprocess.run(["curl", "-s", "--unix-socket", f"{work}/agent.sock", f"http://agent{path}"], stdout=subprocess.DEVNULL)
        time.sleep(20)
    time.sleep(15)
    daemon.terminate()
    daemon.wait(timeout=60)
    return f"{out}.1", out


def main():
    if len(sys.argv) == 3:                       # two callgrind files already made: start-up, idle
        startup, idle = sys.argv[1], sys.argv[2]
        suffix = ""
    else:
        for exe in (agent, sim):
            if not os.path.exists(exe):
                sys.exit(f"build first ({exe} missing): see this script's docstring")
        work = tempfile.mkdtemp(prefix="symbol-order-")
        startup, idle = profile(work)
        suffix = "agent-nodebug"
    idle_functions = functions(idle, suffix or "agent-nodebug")
    startup_only = [f for f in functions(startup, suffix or "agent-nodebug") if f not in set(idle_functions)]
    with open(output, "w") as f:
        f.write("\n".join(sorted(idle_functions) + sorted(startup_only)) + "\n")
    print(f"{output}: {len(idle_functions)} idle functions, then {len(startup_only)} start-up only")


main()
