"""Reducer benchmark: sleuth reduce vs picire vs shrinkray vs C-Reduce, side
by side in one run, on the set made by bench/reduce_gen.py.

    python bench/reduce_bench.py [--jobs 2] [--limit 300] [--tools a,b] [--cases a,b]
                                 [--peer-python PATH] [--repeat 1]

For every case and tool: the number of test runs, the wall time (each test
also sleeps 10 ms) and the final size against the known minimum. A peer that
is not installed, or fails to run, is skipped and the table says why. Wall
times are medians over --repeat runs; the machine is shared, so they are
noisy. Install the peers with `pip install -r bench/requirements.txt` (into
the Python given by --peer-python) and C-Reduce with `apt-get install creduce`.

shrinkray (26.x) depends on llama-cpp-python, which compiles llama.cpp from
source for many minutes; its reductions here do not need it, so it can be
installed with `pip install --no-deps shrinkray` plus its other dependencies
(click chardet trio textual textual-plotext humanize libcst exceptiongroup
binaryornot black tree-sitter tree-sitter-language-pack).
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reduce_gen  # noqa: E402

PY = sys.executable


def write_tester(work, case_dir, inp, counter):
    """An executable test: counts itself, then runs the predicate on $1, or on
    the input's name in the current folder (C-Reduce, shrinkray's cwd mode)."""
    path = os.path.join(work, "test.sh")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n"
                f"echo x >> '{counter}'\n"
                f"exec '{PY}' -S '{os.path.join(case_dir, 'pred.py')}' \"${{1:-{inp}}}\"\n")
    os.chmod(path, 0o755)
    return path


def count_lines(path):
    try:
        with open(path) as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def kill_tree(pid):
    """SIGKILL PID and every descendant (some peers start workers in their
    own process groups, which a group kill would miss)."""
    try:
        out = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True,
                             text=True).stdout
    except OSError:
        out = ""
    children = {}
    for line in out.split("\n"):
        parts = line.split()
        if len(parts) == 2:
            children.setdefault(int(parts[1]), []).append(int(parts[0]))
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(children.get(p, []))
    for p in seen:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def run_limited(cmd, cwd, limit, env=None):
    """Runs CMD in its own session; kills it and its descendants after LIMIT s.
    Output goes to a file, so a stray grandchild cannot keep us waiting."""
    t0 = time.monotonic()
    log = os.path.join(cwd, "tool.log")
    with open(log, "wb") as f:
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            p.wait(timeout=limit)
            hit = False
        except subprocess.TimeoutExpired:
            kill_tree(p.pid)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
            hit = True
    wall = time.monotonic() - t0
    with open(log, "rb") as f:
        out = f.read().decode(errors="replace")
    return wall, p.returncode, hit, out


def tool_sleuth(a, work, inp, tester):
    out = os.path.join(work, "result")
    # The peers' convention: the tester exits 0 while the input is interesting.
    cmd = [PY, "-m", "sleuth", "reduce", "-q", "--interestingness", "--jobs", str(a.jobs),
           "--test", tester,
           inp, "-o", out]
    return cmd, out


def tool_picire(a, work, inp, tester):
    outdir = os.path.join(work, "picire-out")
    exe = os.path.join(os.path.dirname(a.peer_python), "picire")
    cmd = [exe, "--input", inp, "--test", tester, "--parallel", "--jobs", str(a.jobs),
           "--atom", "both" if not inp.endswith(".bin") else "char", "--out", outdir,
           "--log-level", "ERROR"]
    return cmd, os.path.join(outdir, os.path.basename(inp))


def tool_shrinkray(a, work, inp, tester):
    exe = os.path.join(os.path.dirname(a.peer_python), "shrinkray")
    cmd = [exe, "--ui", "basic", "--parallelism", str(a.jobs), "--no-history", tester, inp]
    return cmd, inp    # reduces in place


def tool_creduce(a, work, inp, tester):
    cmd = ["creduce", "--n", str(a.jobs), "--not-c", tester, inp]
    return cmd, inp    # reduces in place


TOOLS = {"sleuth": tool_sleuth, "picire": tool_picire, "shrinkray": tool_shrinkray,
         "creduce": tool_creduce}


def available(a, tool):
    if tool == "sleuth":
        try:
            import sleuth._reduce  # noqa: F401
            return None
        except ImportError as e:
            return f"not importable: {e}"
    if tool == "creduce":
        return None if shutil.which("creduce") else "not installed (apt-get install creduce)"
    exe = os.path.join(os.path.dirname(a.peer_python), tool)
    return None if os.access(exe, os.X_OK) else f"not installed ({exe} missing)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--limit", type=float, default=300)
    ap.add_argument("--tools", default="sleuth,picire,shrinkray,creduce")
    ap.add_argument("--cases", default="python,csv,json,binary")
    ap.add_argument("--peer-python", default=sys.executable,
                    help="the Python whose bin/ holds picire and shrinkray")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()

    root = tempfile.mkdtemp(prefix="sleuth-reduce-bench-")
    data = os.path.join(root, "data")
    manifest = reduce_gen.main(data)
    rows = []
    for case in a.cases.split(","):
        m = manifest[case]
        case_dir = os.path.join(data, case)
        for tool in a.tools.split(","):
            why = available(a, tool)
            if why:
                rows.append({"case": case, "tool": tool, "skipped": why})
                continue
            walls, tests, sizes, notes = [], [], [], []
            for _ in range(a.repeat):
                work = tempfile.mkdtemp(dir=root, prefix=f"{case}-{tool}-")
                inp = os.path.join(work, m["input"])
                shutil.copy(os.path.join(case_dir, m["input"]), inp)
                counter = os.path.join(work, "count")
                tester = write_tester(work, case_dir, m["input"], counter)
                cmd, result = TOOLS[tool](a, work, inp, tester)
                wall, rc, hit, out = run_limited(cmd, work, a.limit)
                size = os.path.getsize(result) if os.path.exists(result) else None
                if rc != 0 and not hit:
                    notes.append(f"exit {rc}: {out.strip().splitlines()[-1:] or ''}")
                if hit:
                    notes.append(f"stopped at the {a.limit:.0f} s limit")
                walls.append(wall)
                tests.append(count_lines(counter))
                sizes.append(size)
            rows.append({"case": case, "tool": tool, "wall": statistics.median(walls),
                         "tests": int(statistics.median(tests)), "size": sizes[-1],
                         "minimum": m["minimum"], "orig": m["size"],
                         "note": "; ".join(sorted(set(notes)))})
            r = rows[-1]
            print(f"{case:7} {tool:10} tests={r['tests']:6} wall={r['wall']:7.1f}s "
                  f"size={r['size']} (min {r['minimum']}) {r['note']}", flush=True)
    shutil.rmtree(root, ignore_errors=True)

    print()
    print(f"| case (size) | tool | tests | wall s | final size (known minimum) | note |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for r in rows:
        if "skipped" in r:
            print(f"| {r['case']} | {r['tool']} | | | | skipped: {r['skipped']} |")
            continue
        mark = " ✓" if r["size"] == r["minimum"] else ""
        print(f"| {r['case']} ({r['orig']} B) | {r['tool']} | {r['tests']} | {r['wall']:.1f} "
              f"| {r['size']} ({r['minimum']}){mark} | {r['note']} |")
    print()
    for case in a.cases.split(","):
        mine = [r for r in rows if r["case"] == case and r["tool"] == "sleuth" and "wall" in r]
        peers = [r for r in rows if r["case"] == case and r["tool"] != "sleuth" and "wall" in r
                 and not r["note"]]
        if mine and peers:
            best = min(peers, key=lambda r: r["wall"])
            print(f"{case}: fastest peer {best['tool']} {best['wall']:.1f} s; sleuth "
                  f"{mine[0]['wall']:.1f} s -> {best['wall'] / mine[0]['wall']:.1f}x")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
