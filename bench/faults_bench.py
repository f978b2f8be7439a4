"""Benchmark: does a fault handler cost a running program anything?

Runs each workload three ways, interleaved round by round:
  plain          nothing enabled
  faulthandler   faulthandler.enable()
  sleuth         sleuth.faults.enable()  (Python + native frames, thread names)
and prints, per workload, the median CPU time of each and the ratio to plain.

A fault handler only runs when a fatal signal arrives, so the expected
answer is 1.00x everywhere; the one place sleuth does extra work on a healthy
program is thread start-up on 3.12+ (a dict watcher records the new thread's
name), which the "threads" workload measures.

The machine this was written on has 2 cores shared with other jobs: numbers
are noisy (±10% between runs is common), hence medians of several runs.

Usage: python bench/faults_bench.py [--runs N]
"""
import argparse
import json
import statistics
import subprocess
import sys

WORKLOADS = {
    "fib": """
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
fib(27)
""",
    "alloc": """
d = {}
for i in range(300_000):
    d[str(i)] = [i, str(i) * 2]
    if len(d) > 1000:
        d.clear()
""",
    "gc-cycles": """
import gc
class Node:
    pass
for i in range(100_000):
    a = Node(); b = Node(); a.b = b; b.a = a
gc.collect()
""",
    "threads": """
import threading
def work():
    sum(range(100))
for _ in range(500):
    t = threading.Thread(target=work)
    t.start()
    t.join()
""",
}

# Each workload runs in one fresh child process; inside it, rounds of
# (plain, faulthandler, sleuth) alternate, switching the handler on and off
# around each timed run. A fault handler is only a signal disposition (plus,
# for sleuth on 3.12+, the thread-start hook), so toggling it in-process
# measures exactly its cost, without the process-to-process variation
# (address layout, cache placement) that dominates separate runs.
CHILD = """
import faulthandler, json, sys, time
import sleuth.faults
code = compile({workload!r}, "<workload>", "exec")
times = {{"plain": [], "faulthandler": [], "sleuth": []}}
exec(code, {{}})                                  # warm up (imports, caches)
for _ in range({rounds}):
    for variant in times:
        if variant == "faulthandler":
            faulthandler.enable()
        elif variant == "sleuth":
            sleuth.faults.enable()
        t0 = time.process_time()
        exec(code, {{}})
        times[variant].append(time.process_time() - t0)
        faulthandler.disable()
        sleuth.faults.disable()
json.dump(times, sys.stdout)
"""


def run_workload(workload, rounds):
    src = CHILD.format(workload=WORKLOADS[workload], rounds=rounds)
    out = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"benchmark child failed:\n{out.stderr}")
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="rounds per workload")
    args = ap.parse_args()
    print(f"CPython {sys.version.split()[0]}, {args.runs} rounds each, CPU-time medians "
          "(noisy shared machine)")
    print(f"{'workload':<11} {'plain':>9} {'faulthandler':>13} {'sleuth':>9} "
          f"{'fh/plain':>9} {'sleuth/plain':>13}")
    for workload in WORKLOADS:
        times = run_workload(workload, args.runs)
        med = {v: statistics.median(t) for v, t in times.items()}
        print(f"{workload:<11} {med['plain'] * 1e3:>7.1f}ms {med['faulthandler'] * 1e3:>11.1f}ms "
              f"{med['sleuth'] * 1e3:>7.1f}ms {med['faulthandler'] / med['plain']:>8.2f}x "
              f"{med['sleuth'] / med['plain']:>12.2f}x")


if __name__ == "__main__":
    main()
