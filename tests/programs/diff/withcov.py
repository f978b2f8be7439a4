"""coverage.py measuring part of the program (as pytest-cov does), with each
core this Python offers; the measured lines and arcs are the observation."""
import os
import sys

import coverage

OUT = []
HERE = os.path.abspath(__file__)


def note(*parts):
    OUT.append(" ".join(str(p) for p in parts))


def never_called():
    return coverage.__version__


def gen(n):
    try:
        for i in range(n):
            got = yield i
            if got:
                n += got
    finally:
        note("gen finally", n)


def workload(k):
    g = gen(3)
    values = [next(g), g.send(1)]
    try:
        g.throw(KeyError("in"))
    except KeyError:
        values.append("thrown")
    total = 0
    for v in range(k):
        if v % 3 == 0:
            total += v
        else:
            total -= 1
    try:
        {}[k]
    except KeyError:
        total += 100
    return values, total, [x * 2 for x in range(3)]


def measure(core):
    if core:
        os.environ["COVERAGE_CORE"] = core
    else:
        os.environ.pop("COVERAGE_CORE", None)
    cov = coverage.Coverage(data_file=None, branch=core != "sysmon", include=[HERE])
    cov.start()
    try:
        result = workload(7)
    finally:
        cov.stop()
    data = cov.get_data()
    lines = sorted(data.lines(HERE) or [])
    arcs = sorted(data.arcs(HERE) or [])
    note("core", core, "result", result)
    note("lines", lines)
    note("arcs", arcs, "core used", cov._collector.core if hasattr(cov, "_collector") else "?")


def main():
    cores = [None, "pytrace"]
    if sys.version_info >= (3, 12):
        cores.append("sysmon")
    for core in cores:
        measure(core)
    os.environ.pop("COVERAGE_CORE", None)
    return len(OUT)


count = main()
note("count", count)
data = "\n".join(OUT) + "\n"
status = 3 + sum(data.encode()) % 200
with open(sys.argv[1], "a") as f:
    f.write(data + "=== end %d\n" % status)
sys.exit(status)
