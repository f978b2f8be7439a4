"""Benchmark: `sleuth stacks PID` against `py-spy dump --pid PID`.

One target process per CPython version (3.11, 3.12, 3.13) holds 50 threads,
each blocked 100 frames deep. Each tool reads it REPEAT times, alternating;
we report the median wall time and the median CPU time (user+sys of the
child, from getrusage) and their ratios to py-spy. Also shown:

- `python -c pass`: the reader interpreter's start-up alone, which is part
  of every `sleuth stacks` run (the command is a Python entry point);
- `_stacks.main()`: the C reader called in-process, i.e. sleuth's own work
  without the interpreter start-up.

Before timing, the frames and lines of both tools are compared: the numbers
only count if the two tools print the same stacks.

    python bench/stacks_bench.py [--repeat N] [--versions 3.11,3.12,3.13] [--native]

The machine has 2 cores shared with other jobs: numbers are noisy, hence
medians and alternation.
"""
import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import textwrap
import time

from sleuth import _stacks

PYENV = os.environ.get("PYENV_ROOT", "/root/.pyenv")
VERSIONS = {"3.11": "3.11.7", "3.12": "3.12.1", "3.13": "3.13.0"}
FRAMES = 101

TARGET = textwrap.dedent('''
    import sys, threading
    sys.setrecursionlimit(10000)
    ev = threading.Event()
    ready = threading.Semaphore(0)
    def down(n):
        if n:
            return down(n - 1)
        ready.release()
        ev.wait()
    for i in range(50):
        # 96 down() frames + Event.wait, Condition.wait, run,
        # _bootstrap_inner, _bootstrap = 101
        threading.Thread(target=down, args=(95,), name=f"w{i}", daemon=True).start()
    for i in range(50):
        ready.acquire()
    print("ready", flush=True)
    sys.stdin.readline()
''')


def timed(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {r.stderr.decode()[:300]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def timed_inprocess(pid):
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        t0 = time.perf_counter()
        c0 = time.process_time()
        status = _stacks.main(["sleuth stacks", str(pid)])
        cpu = time.process_time() - c0
        wall = time.perf_counter() - t0
    finally:
        sys.stdout, sys.stderr = saved
    if status != 0:
        raise SystemExit(err.getvalue())
    return wall, cpu


def frames_of_sleuth(pid):
    out = io.StringIO()
    saved = sys.stdout
    sys.stdout = out
    try:
        assert _stacks.main(["sleuth stacks", "--json", str(pid)]) == 0
    finally:
        sys.stdout = saved
    doc = json.loads(out.getvalue())
    return {t["native_id"]: [(f["qualname"], f["file"], f["line"]) for f in t["frames"]]
            for t in doc["threads"] if t["name"] != "MainThread"}


def frames_of_pyspy(pyspy, pid):
    r = subprocess.run([pyspy, "dump", "--json", "--pid", str(pid)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        return None
    return {t["os_thread_id"]: [(f["name"], f["filename"], f["line"]) for f in t["frames"]]
            for t in json.loads(r.stdout) if t["thread_name"] != "MainThread"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--versions", default="3.11,3.12,3.13")
    ap.add_argument("--native", action="store_true",
                    help="also time --native of both tools (ratios to py-spy --native)")
    args = ap.parse_args()
    bindir = os.path.dirname(sys.executable)
    pyspy = shutil.which("py-spy") or os.path.join(bindir, "py-spy")
    sleuth = os.path.join(bindir, "sleuth")
    if not os.path.exists(sleuth):
        sleuth = None
    if not os.path.exists(pyspy):
        raise SystemExit("py-spy not found: pip install -r bench/requirements.txt")
    reader = f"{sys.version_info[0]}.{sys.version_info[1]}"
    print(f"sleuth stacks vs py-spy dump: 50 threads x 101 frames; reader Python {reader}; "
          f"{args.repeat} runs each, medians (2 shared cores: noisy)\n")
    print(f"| target | tool | wall ms | CPU ms | wall / py-spy | CPU / py-spy |")
    print(f"| --- | --- | --- | --- | --- | --- |")
    for short in args.versions.split(","):
        python = os.path.join(PYENV, "versions", VERSIONS[short], "bin", "python" + short)
        if not os.path.exists(python):
            print(f"| {short} | (not installed) | | | | |")
            continue
        path = os.path.join("/tmp", f"sleuth_stacks_bench_{os.getpid()}.py")
        with open(path, "w") as f:
            f.write(TARGET)
        p = subprocess.Popen([python, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
        try:
            assert p.stdout.readline().strip() == "ready"
            ours, theirs = frames_of_sleuth(p.pid), frames_of_pyspy(pyspy, p.pid)
            if theirs is None:
                print(f"| {short} | py-spy cannot attach | | | | |")
                continue
            depths = {len(v) for v in ours.values()}
            same = ours == theirs and depths == {FRAMES}
            cmd_sleuth = ([sleuth] if sleuth else [sys.executable, "-m", "sleuth"]) + \
                ["stacks", str(p.pid)]
            cmd_spy = [pyspy, "dump", "--pid", str(p.pid)]
            cmd_base = [sys.executable, "-c", "pass"]
            res = {"py-spy dump": [], "sleuth stacks": [], "python -c pass": [],
                   "_stacks.main() in-process": []}
            native = {"py-spy dump --native": [], "sleuth stacks --native": []}
            for _ in range(args.repeat):
                res["py-spy dump"].append(timed(cmd_spy))
                res["sleuth stacks"].append(timed(cmd_sleuth))
                res["python -c pass"].append(timed(cmd_base))
                res["_stacks.main() in-process"].append(timed_inprocess(p.pid))
                if args.native:
                    native["py-spy dump --native"].append(timed(cmd_spy + ["--native"]))
                    native["sleuth stacks --native"].append(timed(cmd_sleuth + ["--native"]))
            med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
                   for k, v in res.items()}
            sw, sc = med["py-spy dump"]
            for k, (w, c) in med.items():
                print(f"| {short} | {k} | {w * 1000:.1f} | {c * 1000:.1f} | "
                      f"{w / sw:.2f} | {c / sc:.2f} |")
            print(f"| {short} | same frames and lines as py-spy | {'yes' if same else 'NO'} "
                  f"| | | |")
            if args.native:
                nmed = {k: (statistics.median(w for w, _ in v),
                            statistics.median(c for _, c in v)) for k, v in native.items()}
                nw, nc = nmed["py-spy dump --native"]
                for k, (w, c) in nmed.items():
                    print(f"| {short} | {k} | {w * 1000:.1f} | {c * 1000:.1f} | "
                          f"{w / nw:.2f} | {c / nc:.2f} |")
            if not same:
                print(f"depths seen: {sorted(depths)}; threads: {len(ours)} vs {len(theirs)}")
        finally:
            p.kill()
            p.wait()
            os.unlink(path)


if __name__ == "__main__":
    main()
