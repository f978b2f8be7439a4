"""sleuth.memory vs tracemalloc vs plain, side by side in one run.

The small-object workload of issue 4: many small allocations (tuples, lists,
strings, dicts, ints), about a third of them kept alive, so that at the end
millions of blocks are live. Each mode runs in a fresh child process (peak RSS
is per process); the parent prints medians of CPU time and the ratios to the
plain run. Modes:

  plain              no tracing
  tracemalloc-1      tracemalloc.start(1)
  sleuth-1           sleuth.memory.start(1)
  tracemalloc-25     tracemalloc.start(25), workload run 25 frames deep
  sleuth-25          sleuth.memory.start(25), same depth
  sleuth-sample      sleuth.memory.start(1, sample=512 KiB)

Usage: python bench/memory_bench.py [--scale N] [--repeat N] [--modes a,b,...]
The machine is shared and noisy: read the ratios of medians, not single runs.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

MODES = ["plain", "tracemalloc-1", "sleuth-1", "sleuth-sample",
         "tracemalloc-25", "sleuth-25"]


def workload(scale, keep):
    """~2.7 allocations per step (tuple, str, int/list/dict), 1/3 of the steps kept."""
    for i in range(scale):
        t = (i, str(i))
        if i % 3 == 0:
            keep.append(t)
        elif i % 3 == 1:
            keep.append([i])
            keep.pop()
        else:
            d = {"k": i}
            del d


def deep(n, scale, keep):
    if n <= 1:
        return workload(scale, keep)
    return deep(n - 1, scale, keep)


def child(mode, scale, workload_only=False):
    import gc
    gc.disable()   # the workload makes no cycles; keep the GC out of the numbers
    depth = 25 if mode.endswith("-25") else 1
    tracer = None
    if mode.startswith("tracemalloc"):
        import tracemalloc as tracer
        tracer.start(depth)
    elif mode.startswith("sleuth"):
        import sleuth.memory as tracer
        if mode == "sleuth-sample":
            tracer.start(1, sample=512 * 1024, seed=1)
        else:
            tracer.start(depth)
    keep = []
    t0 = time.process_time()
    deep(depth, scale, keep)
    cpu = time.process_time() - t0
    out = {"mode": mode, "cpu": cpu, "live_objects": len(keep)}
    if tracer is not None and not workload_only:
        # before take_snapshot(): tracemalloc traces its own snapshot tuples
        out["traced"] = tracer.get_traced_memory()[0]
        out["meta"] = tracer.get_tracemalloc_memory()
        t0 = time.perf_counter()
        snap = tracer.take_snapshot()
        t1 = time.perf_counter()
        stats = snap.statistics("lineno")
        t2 = time.perf_counter()
        out["blocks"] = len(snap.traces)
        out["snapshot_s"] = t1 - t0
        out["statistics_s"] = t2 - t1
        out["top"] = {"lineno": [(str(s.traceback), s.size, s.count) for s in stats[:10]],
                      "filename": [(str(s.traceback), s.size, s.count)
                                   for s in snap.statistics("filename")[:10]]}
    out["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=8_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    # the child runs the workload and exits (bench/memory_instructions.sh)
    ap.add_argument("--workload-only", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(a.child, a.scale, a.workload_only)
    modes = a.modes.split(",")
    runs = {m: [] for m in modes}
    for r in range(a.repeat):
        for m in modes:
            p = subprocess.run([sys.executable, __file__, "--child", m, "--scale", str(a.scale)],
                               capture_output=True, text=True)
            if p.returncode:
                sys.exit(f"{m} failed:\n{p.stderr}")
            runs[m].append(json.loads(p.stdout.splitlines()[-1]))
            print(f"  run {r + 1} {m}: {runs[m][-1]['cpu']:.2f} s", file=sys.stderr)
    print(f"Python {sys.version.split()[0]}, scale {a.scale}, {a.repeat} runs, medians "
          f"(2 shared cores: noisy)")
    base = statistics.median(x["cpu"] for x in runs["plain"]) if "plain" in runs else None
    # the fastest run of each mode: noise on a shared machine only adds time
    base_min = min(x["cpu"] for x in runs["plain"]) if base else None
    base_rss = statistics.median(x["maxrss_kb"] for x in runs["plain"]) if base else None
    print(f"| mode | CPU s | CPU ratio | CPU ratio of fastest runs | peak RSS MiB | RSS ratio "
          f"| snapshot s | statistics('lineno') s | live blocks | metadata B/block |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for m in modes:
        xs = runs[m]
        med = lambda k: statistics.median(x[k] for x in xs)  # noqa: E731
        cpu, rss = med("cpu"), med("maxrss_kb")
        fastest = min(x["cpu"] for x in xs)
        row = [m, f"{cpu:.2f}", f"{cpu / base:.2f}x" if base else "-",
               f"{fastest / base_min:.2f}x" if base else "-", f"{rss / 1024:.0f}",
               f"{rss / base_rss:.2f}x" if base else "-"]
        if "snapshot_s" in xs[0]:
            blocks = med("blocks")
            row += [f"{med('snapshot_s'):.2f}", f"{med('statistics_s'):.2f}", f"{blocks:,.0f}",
                    f"{med('meta') / max(blocks, 1):.0f}" if not m.endswith("sample") else "-"]
        else:
            row += ["-"] * 4
        print("| " + " | ".join(row) + " |")
    for depth in ("1", "25"):
        a, b = runs.get("tracemalloc-" + depth), runs.get("sleuth-" + depth)
        if a and b:
            compare_top(a[0], b[0], depth)


def compare_top(ref, mine, depth):
    """Issue 4's exact-mode accuracy check, on the first run of each mode."""
    print(f"\nstart({depth}) vs tracemalloc.start({depth}):")
    for key in ("lineno", "filename"):
        r, m = ref["top"][key], mine["top"][key]
        same = [k for k, _, _ in r] == [k for k, _, _ in m]
        # sites under 1 KiB are the measuring calls themselves (a result
        # tuple of get_traced_memory() and the like), not the workload
        worst = max((max(abs(s1 - s2) / max(s2, 1), abs(c1 - c2) / max(c2, 1))
                     for (_, s1, c1), (_, s2, c2) in zip(m, r) if s2 >= 1024), default=0)
        print(f"  top-10 {key}: same keys in the same order: {'yes' if same else 'NO'}; "
              f"largest size/count difference (sites >= 1 KiB) {worst:.2%}")
    t1, t2 = mine["traced"], ref["traced"]
    print(f"  get_traced_memory(): {t1:,} vs {t2:,} ({(t1 - t2) / t2:+.2%})")


if __name__ == "__main__":
    main()
