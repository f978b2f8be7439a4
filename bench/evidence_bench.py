"""Capture time and size: sleuth evidence vs the standard library.

For a 20-frame and a 200-frame stack (each frame with a handful of ordinary
locals: ints, a str, a list, a dict, an object) it measures, side by side in
one run:

  plain format_exc     traceback.format_exc() (no locals)          - the baseline
  stdlib locals        traceback.TracebackException(capture_locals=True) text
  sleuth tb locals     sleuth.traceback.format_exc(locals=True)
  sleuth capture       sleuth.evidence.capture_json() (full evidence document)
  sleuth capture+file  sleuth.evidence.capture(path=...) (document written to disk)

and prints CPU-time medians, ratios to plain format_exc, and output sizes.
The machine is shared: numbers are noisy, which is why medians of many
repeats are used. Run: python bench/evidence_bench.py [--repeat N]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import traceback

import sleuth.evidence
import sleuth.traceback


class Order:
    def __init__(self, n):
        self.id = n
        self.items = [n, n + 1, n + 2]
        self.note = "order note %d" % n


def recurse(depth, payload):
    count = depth * 3
    name = "frame-%d" % depth
    items = list(range(10))
    info = {"depth": depth, "name": name}
    order = Order(depth)
    if depth == 0:
        raise ValueError("bottom of the stack reached")
    return recurse(depth - 1, payload)


def measure(fn, repeat, inner):
    """Median CPU seconds per call over `repeat` batches of `inner` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        for _ in range(inner):
            fn()
        times.append((time.process_time() - t0) / inner)
    return statistics.median(times)


def run(depth, repeat, tmpdir):
    results = {}
    try:
        recurse(depth - 2, None)    # the bench frame and recurse frames = depth
    except ValueError:
        path = os.path.join(tmpdir, "bench.json")
        cases = {
            "plain format_exc": lambda: traceback.format_exc(),
            "stdlib locals": lambda: "".join(traceback.TracebackException(
                *sys.exc_info(), capture_locals=True).format()),
            "sleuth tb locals": lambda: sleuth.traceback.format_exc(locals=True),
            "sleuth capture": lambda: sleuth.evidence.capture_json(),
            "sleuth capture+file": lambda: sleuth.evidence.capture(path=path),
        }
        sizes = {}
        for name, fn in cases.items():
            out = fn()      # warm up (linecache, environment caches)
            sizes[name] = os.path.getsize(path) if name.endswith("+file") else \
                len(out.encode("utf-8"))
        inner = max(1, 200 // depth)
        # Interleave the cases so that machine noise hits them alike.
        samples = {name: [] for name in cases}
        for _ in range(repeat):
            for name, fn in cases.items():
                samples[name].append(measure(fn, 1, inner))
        for name in cases:
            results[name] = (statistics.median(samples[name]), sizes[name])
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    print(f"Python {sys.version.split()[0]}  (CPU-time medians of {args.repeat} runs; "
          "shared 2-core machine: expect +-10-20% noise)")
    with tempfile.TemporaryDirectory() as tmpdir:
        for depth in (20, 200):
            res = run(depth, args.repeat, tmpdir)
            base = res["plain format_exc"][0]
            print(f"\n{depth}-frame stack")
            print(f"  {'':22} {'time':>10} {'vs plain':>9} {'size':>10}")
            for name, (t, size) in res.items():
                print(f"  {name:22} {t * 1e3:8.3f}ms {t / base:8.2f}x {size:9d}B")


if __name__ == "__main__":
    main()
