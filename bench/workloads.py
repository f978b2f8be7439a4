"""Workloads for bench_debugger.py. Run as: python workloads.py NAME [SCALE]

Prints "CPU <seconds>" for the measured part (time.process_time), so that
debugger start-up is not counted. The functions live in this file on purpose:
a breakpoint "in the workload's own file" is set on never_called() below.
"""
import contextlib
import os
import sys
import time

import bench_other


def never_called():
    return "this line holds the breakpoint"          # NEVER_LINE


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)                    # FIB_BODY_LINE


def run_fib(scale):
    return fib(30 + scale)


def run_nbody(scale):
    bodies = [[0.0, 0.0, 0.0, 0.01, 0.02, 0.03, 1.0],
              [1.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.001],
              [0.0, 2.0, 0.0, -0.4, 0.0, 0.1, 0.002],
              [0.0, 0.0, 3.0, 0.0, 0.2, -0.3, 0.003]]
    dt = 0.001
    for _ in range(40000 * (scale + 1)):
        for i in range(len(bodies)):
            bi = bodies[i]
            for j in range(i + 1, len(bodies)):
                bj = bodies[j]
                dx = bi[0] - bj[0]
                dy = bi[1] - bj[1]
                dz = bi[2] - bj[2]
                d2 = dx * dx + dy * dy + dz * dz + 0.01
                mag = dt / (d2 * d2 ** 0.5)
                bi[3] -= dx * bj[6] * mag
                bj[3] += dx * bi[6] * mag
        for b in bodies:
            b[0] += dt * b[3]
            b[1] += dt * b[4]
            b[2] += dt * b[5]
    return bodies[0][0]


def run_strdict(scale):
    d = {}
    for i in range(400000 * (scale + 1)):
        key = "k%d" % (i % 1000)
        d[key] = d.get(key, "") [:20] + str(i)[-1]
    return len(d)


def fails(i):
    if i % 3 == 0:
        raise ValueError(i)
    return i


def run_raise(scale):
    caught = 0
    for i in range(200000 * (scale + 1)):
        try:
            fails(i)
            fails(i + 1)
        except ValueError:
            caught += 1
    return caught


def _catcher():
    while True:
        try:
            yield 1
        except KeyError:
            pass


@contextlib.contextmanager
def _swallow():
    try:
        yield
    except KeyError:
        pass


def run_throw(scale):
    # Exceptions thrown into generators: gen.throw() and a contextmanager's
    # `with` block that raises (each is a PY_THROW event, which sys.monitoring
    # cannot switch off).
    g = _catcher()
    next(g)
    n = 0
    for i in range(50000 * (scale + 1)):
        g.throw(KeyError)
        with _swallow():
            raise KeyError(i)
        n += 1
    return n


def heavy():
    # For `next` over a CPU-heavy call: the callee must run untraced.
    return fib(28) + run_strdict(0)


WORKLOADS = {"fib": run_fib, "nbody": run_nbody, "strdict": run_strdict, "raise": run_raise,
             "throw": run_throw}


def main():
    name = sys.argv[1]
    scale = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    bench_other.helper()
    if os.environ.get("SLEUTH_BENCH_EMPTY_HOOK"):
        # 3.11: what any PEP 523 frame-evaluation hook costs by itself.
        from sleuth import _sleuth
        _sleuth._empty_eval_hook(True)
    if name == "next":
        t0 = time.process_time()
        heavy()                                        # NEXT_LINE
        t1 = time.process_time()
    else:
        func = WORKLOADS[name]
        t0 = time.process_time()
        func(scale)
        t1 = time.process_time()
    print("CPU %.6f" % (t1 - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
