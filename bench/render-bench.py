#!/usr/bin/env python3
"""Times `cassandra-agent validate` and `render` of a typical desired state as
whole processes (start-up included) and prints the figures. Target: well under
50 ms per run. Also prints the peak resident memory of one run.

    swift build -c release && python3 bench/render-bench.py [RUNS]
"""
import os, resource, statistics, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
agent = os.path.join(root, ".build", "release", "cassandra-agent")
example = os.path.join(root, "etc", "examples", "cassandra-4.1.yaml")
runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
if not os.path.exists(agent):
    sys.exit(f"build first: swift build -c release ({agent} missing)")

def measure(args):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.mean(times), times[len(times) // 2], times[int(len(times) * 0.95) - 1], times[-1]

with tempfile.TemporaryDirectory() as out:
    # The comparison point, in the same run: a trivial program importing only FoundationEssentials.
    hello = os.path.join(out, "hello")
    subprocess.run(["swiftc", "-O", os.path.join(root, "bench", "trivial", "hello.swift"), "-o", hello], check=True)
    mean, p50, p95, worst = measure([hello])
    print(f"{'hello':9s} {runs} runs: mean {mean:.1f} ms, p50 {p50:.1f} ms (a trivial FoundationEssentials program)")
    baseline = p50
    for name, args in [("validate", [agent, "validate", example]),
                       ("render", [agent, "render", example, "--output", out])]:
        mean, p50, p95, worst = measure(args)
        print(f"{name:9s} {runs} runs: mean {mean:.1f} ms, p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {worst:.1f} ms ({p50 / baseline:.1f}x hello; target 3x)")
    # GNU time's %M: this one process's peak (RUSAGE_CHILDREN would count the swiftc run above).
    for name, args in [("render", [agent, "render", example, "--output", out]), ("hello", [hello])]:
        peak = subprocess.run(["/usr/bin/time", "-f", "%M", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr.split()[-1]
        print(f"peak resident memory of a {name} run: {int(peak) / 1024:.1f} MiB")
