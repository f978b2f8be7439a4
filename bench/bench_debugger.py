"""plain vs pdb vs sleuth, side by side in one run, on the running Python.

    python bench/bench_debugger.py [--reps N] [--quick]

Each cell is a ratio of CPU times (time.process_time inside the program, so
interpreter and debugger start-up are excluded): N rounds of plain then each
tool back to back, the ratio per round, the median over rounds. The machine
is shared: read +-10% as noise.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "workloads.py")
OTHER = os.path.join(HERE, "bench_other.py")


def line_of(path, marker):
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if marker in line:
                return i
    raise SystemExit("marker %s not found" % marker)


NEVER = line_of(WORK, "# NEVER_LINE")
FIB_BODY = line_of(WORK, "# FIB_BODY_LINE")
NEXT_LINE = line_of(WORK, "# NEXT_LINE")
OTHER_LINE = line_of(OTHER, "# OTHER_LINE")


def run(tool, workload, commands=(), stdin="", scale=0):
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("PYTHONBREAKPOINT", None)
    if tool == "empty-hook":
        env["SLEUTH_BENCH_EMPTY_HOOK"] = "1"
    if tool in ("plain", "empty-hook"):
        cmd = [sys.executable, WORK, workload, str(scale)]
    else:
        cmd = [sys.executable, "-m", tool]
        for c in commands:
            cmd += ["-c", c]
        cmd += [WORK, workload, str(scale)]
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, timeout=3600)
    m = re.search(r"CPU ([0-9.]+)", r.stderr)
    if not m:
        raise SystemExit("no timing from %s %s:\n%s\n%s" % (tool, workload, r.stdout[-2000:], r.stderr[-2000:]))
    return float(m.group(1))


def median_time(reps, *args, **kw):
    return statistics.median(run(*args, **kw) for _ in range(reps))


def paired_ratios(reps, tools, workload, commands, stdin="", scale=0):
    """Rounds of plain, then each tool, back to back; each tool's ratio is
    taken against the plain run of its own round, then the median over the
    rounds. Pairing keeps slow drifts of a shared machine out of the ratio."""
    ratios = {t: [] for t in tools}
    plains = []
    for _ in range(reps):
        p = run("plain", workload, scale=scale)
        plains.append(p)
        for t in tools:
            ratios[t].append(run(t, workload, commands, stdin=stdin, scale=scale) / p)
    return statistics.median(plains), {t: statistics.median(r) for t, r in ratios.items()}


def time_to_prompt(tool, reps):
    """Wall time from spawn to the end of a session that quits at the first prompt."""
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", tool, os.path.join(HERE, "bench_other.py")],
                       input="q\n", capture_output=True, text=True)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--tools", default="pdb,sleuth")
    ap.add_argument("--only", default="", help="run only the rows whose workload or case contains this")
    args = ap.parse_args()

    def wanted(*words):
        return not args.only or any(args.only in w for w in words)

    def add(row):
        rows.append(row)
        print(" | ".join(row), flush=True)

    tools = args.tools.split(",")
    v = "%d.%d" % sys.version_info[:2]
    rows = []
    cases = [
        ("bp in same file, never hit", ["b %s:%d" % (WORK, NEVER), "c"]),
        ("bp in other file, never hit", ["b %s:%d" % (OTHER, OTHER_LINE), "c"]),
    ]
    for wl in ("fib", "nbody", "strdict", "raise"):
        for label, cmds in cases:
            if not wanted(wl, label):
                continue
            plain, r = paired_ratios(args.reps, tools, wl, cmds)
            add([v, wl, label, "%.3fs" % plain] + ["%.2fx" % r[t] for t in tools])
    if sys.version_info < (3, 12) and wanted("fib", "raise", "empty PEP 523 hook"):
        # The floor for any PEP 523 hook: an empty one, no debugger at all.
        for wl in ("fib", "raise"):
            plain, r = paired_ratios(args.reps, ["empty-hook"], wl, [])
            add([v, wl, "empty PEP 523 hook, no debugger (floor)", "%.3fs" % plain] +
                ["%.2fx" % r["empty-hook"] if t == "sleuth" else "-" for t in tools])
    if wanted("fib(27)", "false condition"):
        # A false condition on fib's hottest line.
        plain, r = paired_ratios(args.reps, tools, "fib", ["b %s:%d, n == -1" % (WORK, FIB_BODY), "c"],
                                 scale=-3)
        add([v, "fib(27)", "false condition on hot line", "%.3fs" % plain] + ["%.1fx" % r[t] for t in tools])
        if "pdb" in r and "sleuth" in r and r["sleuth"] > 1:
            # What a hit adds, (ratio - 1), pdb's over sleuth's.
            add([v, "fib(27)", "cost per hit: pdb's over sleuth's", "-"] +
                ["%.0fx" % ((r["pdb"] - 1) / (r["sleuth"] - 1)) if t == "sleuth" else "-" for t in tools])
    if wanted("heavy()", "next"):
        # `next` over a CPU-heavy call: CPU of the whole `heavy()` line.
        plain, r = paired_ratios(args.reps, tools, "next", ["b %s:%d" % (WORK, NEXT_LINE), "c"], stdin="n\nc\n")
        add([v, "heavy()", "`next` over the call", "%.3fs" % plain] + ["%.2fx" % r[t] for t in tools])
    if wanted("prompt"):
        # Time to first prompt (wall, includes interpreter start-up).
        add([v, "-", "start to first prompt (wall)", "-"] +
            ["%.0f ms" % (1000 * time_to_prompt(tool, max(args.reps, 5))) for tool in tools])
    print()
    print("| Python | workload | case | plain CPU | " + " | ".join(tools) + " |")
    print("|---|---|---|---|" + "---|" * len(tools))
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
