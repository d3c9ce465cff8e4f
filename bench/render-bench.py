#!/usr/bin/env python3
"""Times `cassandra-agent validate` and `render` of a typical desired state as
whole processes (start-up included) next to a trivial FoundationEssentials
program's start-up, in the same run: wall time, and the CPU time of the
process and its threads (what a loaded machine disturbs least). Target:
validate ≤ 3x the trivial program. The static build (what packaging/build-deb.sh
ships, in .build-static) is timed too when it is there, against the trivial
program built with the static standard library. Also prints the peak resident
memory of one run.

    swift build -c release && python3 bench/render-bench.py [RUNS]
"""
import os, resource, statistics, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
agent = os.path.join(root, ".build", "release", "cassandra-agent")
static = os.path.join(root, ".build-static", "release", "cassandra-agent")
example = os.path.join(root, "etc", "examples", "cassandra-4.1.yaml")
runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
if not os.path.exists(agent):
    sys.exit(f"build first: swift build -c release ({agent} missing)")

def measure(args):
    """p50 wall ms, p50 CPU ms (user + system of the child, its threads included)."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    walls.sort()
    return statistics.mean(walls), walls[len(walls) // 2], walls[int(len(walls) * 0.95) - 1], statistics.median(cpus)

with tempfile.TemporaryDirectory() as out:
    builds = [("", agent, [])]
    if os.path.exists(static):
        builds.append((" (static)", static, ["-static-stdlib"]))
    for suffix, exe, flags in builds:
        # The comparison point, in the same run: a trivial program importing only FoundationEssentials.
        hello = os.path.join(out, "hello" + suffix.strip(" ()"))
        subprocess.run(["swiftc", "-O", *flags, os.path.join(root, "bench", "trivial", "hello.swift"), "-o", hello], check=True)
        mean, p50, p95, cpu = measure([hello])
        print(f"{'hello' + suffix:18s} {runs} runs: mean {mean:.1f} ms, p50 {p50:.1f} ms, cpu {cpu:.1f} ms (a trivial FoundationEssentials program)")
        baseline, baseline_cpu = p50, cpu
        for name, args in [("validate", [exe, "validate", example]),
                           ("render", [exe, "render", example, "--output", out])]:
            mean, p50, p95, cpu = measure(args)
            print(f"{name + suffix:18s} {runs} runs: mean {mean:.1f} ms, p50 {p50:.1f} ms, p95 {p95:.1f} ms, cpu {cpu:.1f} ms"
                  f" ({p50 / baseline:.1f}x hello, cpu {cpu / max(baseline_cpu, 0.1):.1f}x; target 3x)")
    # GNU time's %M: this one process's peak (RUSAGE_CHILDREN would count the swiftc run above).
    for name, args in [("render", [agent, "render", example, "--output", out]), ("hello", [os.path.join(out, "hello")])]:
        peak = subprocess.run(["/usr/bin/time", "-f", "%M", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr.split()[-1]
        print(f"peak resident memory of a {name} run: {int(peak) / 1024:.1f} MiB")
    print(f"load average {os.getloadavg()[0]:.1f} (2 cores; other builds disturb the wall times more than the cpu times)")
