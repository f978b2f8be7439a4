"""Debugging over DAP: sleuth against debugpy, side by side in one run.

    python bench/dap_bench.py [--quick] [--only instructions|startup|variables]
                              [--tools sleuth,debugpy] [--counts FILE [--fresh TEXT]]

1. Instructions (callgrind, as bench/instructions.sh) of fib under a DAP
   session, over plain: a never-hit breakpoint in the running file, a false
   conditional breakpoint on fib's hot line (`n == -1`), and a log point on
   it. The program runs under valgrind with `--listen --wait-for-client`
   (sleuth's and debugpy's), a client connects straight to it, sets the
   breakpoint and runs to the end; two sizes of fib cancel start-up. Cost per
   hit = extra instructions / hits of the hot line; for the log point, how
   many of its lines reached the client is shown (and kept with the counts).
   debugpy's adapter is a child process that valgrind does not follow: only
   the program is counted, for both tools. A breakpoint a tool does not apply (it stops on a false
   condition or a log point) is reported as "not applied".
2. Time from `launch` to the first `stopped` event, through each adapter
   (`sleuth dap`, `python -m debugpy.adapter`): median of 5 wall-clock runs.
3. A `variables` request (no paging arguments, as nvim-dap and dap-mode
   send it) on a 100,000-item list: median of 5, with how many items came.

A tool that cannot run (no debuggee server in this sleuth build, debugpy not
installed) is reported as such, not guessed.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from dapclient import DapClient, free_port, wait_listening  # noqa: E402

PY = sys.executable
WORKLOADS = os.path.join(HERE, "workloads.py")


def line_of(marker, path=WORKLOADS):
    with open(path) as f:
        for n, text in enumerate(f, 1):
            if marker in text:
                return n
    raise LookupError(marker)


def have_sleuth_server():
    from dapclient import have_debuggee_server
    return have_debuggee_server()


def have_debugpy():
    try:
        import debugpy  # noqa: F401
        return True
    except ImportError:
        return False


# --- 1. instructions -------------------------------------------------------------

def callgrind(cmd, env=None):
    """Run cmd under callgrind; (Popen, function returning the instruction count)."""
    full = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd]
    p = subprocess.Popen(full, cwd=HERE, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)

    def count():
        err = p.communicate(timeout=3600)[1]
        for line in err.splitlines():
            if "Collected :" in line:
                return int(line.split("Collected :")[1].split()[0])
        raise RuntimeError("no callgrind count: " + err[-2000:])
    return p, count


def bench_env(tool=None):
    env = dict(os.environ, PYTHONHASHSEED="0",
               PYTHONPATH=os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH")])))
    if tool == "debugpy":
        # debugpy's adapter (a child that valgrind does not trace, so it runs
        # at full speed) gives the program DEBUGPY_PROCESS_SPAWN_TIMEOUT (60 s)
        # to connect back to it before it fails `attach` with "Timed out
        # waiting for debug server to connect"; under callgrind on a loaded
        # machine importing pydevd can take longer. 0 = no limit.
        env["DEBUGPY_PROCESS_SPAWN_TIMEOUT"] = "0"
    return env


def plain_count(scale):
    _, count = callgrind([PY, WORKLOADS, "fib", str(scale)], bench_env())
    return count()


class NotApplied(Exception):
    """The debugger stopped at a breakpoint that should not stop (a false
    condition or a log point it does not support over DAP)."""


def dap_count(tool, scale, bp):
    """fib(30+scale) under `TOOL --listen`, a client setting bp and running;
    the program's instruction count."""
    port = free_port()
    p, count = callgrind([PY, "-m", tool, "--listen", f"127.0.0.1:{port}", "--wait-for-client",
                          WORKLOADS, "fib", str(scale)], bench_env(tool))
    try:
        wait_listening(port, timeout=600)
        c = DapClient.connect("127.0.0.1", port)
        c.timeout = 1800
        r = c.request("initialize", clientID="bench", adapterID="python", linesStartAt1=True,
                      columnsStartAt1=True, pathFormat="path")
        if not r["success"]:
            raise RuntimeError(f"{tool}: initialize failed: {r.get('message')}")
        seq = c.request_async("attach", justMyCode=True)
        c.wait_event("initialized")
        r = c.request("setBreakpoints", source={"path": WORKLOADS}, breakpoints=[bp])
        if not r["success"] or not r["body"]["breakpoints"][0].get("verified"):
            raise NotApplied(f"setBreakpoints: {r}")
        c.request("setExceptionBreakpoints", filters=[])
        c.request("configurationDone")
        r = c.response(seq)
        if not r["success"]:
            raise RuntimeError(f"{tool}: attach failed: {r.get('message')}")
        while p.poll() is None:
            if any(e["event"] == "stopped" for e in c.events):
                c.request("disconnect", terminateDebuggee=True)
                raise NotApplied("stopped at the breakpoint")
            time.sleep(0.5)
        # The log lines that reached the client (sleuth's category is
        # `console`, debugpy's `stdout`), all before `terminated`. debugpy
        # loses some: pydevd encodes each line in the program's thread and
        # queues it; at the end it waits at most 0.5 s for its writer, then
        # drops the queue (with DEBUGPY_LOG_DIR set, its log says "timed out
        # waiting for writer to be empty").
        try:
            c.wait_event("terminated", timeout=60)
        except TimeoutError:
            pass
        lines = sum(1 for e in c.events if e["event"] == "output"
                    and e["body"].get("category") in ("console", "stdout")
                    and e["body"].get("output", "").strip().isdigit())
        # debugpy's adapter keeps the connection after the program ended;
        # closing our reader while its thread reads would block.
        try:
            c.request("disconnect", _timeout=30)
        except (TimeoutError, OSError):
            pass
        try:
            c.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass                    # sleuth's server closed it at the end
        c.close()
    except BaseException:
        p.kill()
        p.wait()
        raise
    return count(), lines


def hot_line_hits(n):
    # fib(k) for k >= 2 runs the return line once: count calls with n >= 2
    memo = {0: 0, 1: 0}
    for k in range(2, n + 1):
        memo[k] = 1 + memo[k - 1] + memo[k - 2]
    return memo[n]


class Counts:
    """Instruction counts, kept in a JSON file (--counts) as they are measured,
    so that a long run can be resumed and one tool's cases re-measured
    (--fresh) without measuring the others again. Keys: VERSION|TOOL|CASE|SCALE."""

    def __init__(self, path, fresh=()):
        self.path, self.data = path, {}
        if path and os.path.exists(path):
            with open(path) as f:
                self.data = json.load(f)
        v = "%d.%d" % sys.version_info[:2]
        for k in list(self.data):
            if any(k.startswith(v + "|") and pat in k for pat in fresh):
                del self.data[k]

    def get(self, key, measure, also=None):
        """The count of key, measured if not kept. measure may return (count,
        other): other is then kept under the key `also`, if given."""
        key = "%d.%d|%s" % (sys.version_info[:2] + (key,))
        if key not in self.data:
            got = measure()
            if isinstance(got, tuple):
                got, other = got
                if also:
                    self.data["%d.%d|%s" % (sys.version_info[:2] + (also,))] = other
            self.data[key] = got
            print(f"  {key}: {self.data[key]}", file=sys.stderr, flush=True)
            if self.path:
                with open(self.path, "w") as f:
                    json.dump(self.data, f, indent=1, sort_keys=True)
        return self.data[key]

    def lines(self, key):
        return self.data.get("%d.%d|%s" % (sys.version_info[:2] + (key,)))


def instructions(tools, quick, counts, only_cases=None):
    never = {"line": line_of("# NEVER_LINE")}
    hot = line_of("# FIB_BODY_LINE")
    cases = [("never", "never-hit breakpoint", never),
             ("cond", "false conditional breakpoint `n == -1`, per hit",
              {"line": hot, "condition": "n == -1"}),
             ("log", "log point `{n}`, per hit", {"line": hot, "logMessage": "{n}"})]
    a, b = (-16, -14) if quick else (-12, -9)
    hits = hot_line_hits(30 + b) - hot_line_hits(30 + a)
    pa = counts.get(f"plain|fib|{a}", lambda: plain_count(a))
    pb = counts.get(f"plain|fib|{b}", lambda: plain_count(b))
    rows = []
    for key, name, bp in cases:
        if only_cases and key not in only_cases:
            continue
        row, per = [name], {}
        for tool in tools:
            try:
                sa, sb = (counts.get(f"{tool}|{key}|{n}", lambda n=n: dap_count(tool, n, bp),
                                     f"{tool}|log-lines|{n}" if key == "log" else None)
                          for n in (a, b))
            except NotApplied as e:
                row.append(f"not applied ({str(e)[:60]})")
                continue
            ratio = (sb - sa) / (pb - pa)
            per[tool] = (sb - sa - (pb - pa)) / hits
            row.append(f"{ratio:.2f}x" if bp is never
                       else f"{per[tool]:,.0f} instructions ({ratio:.1f}x)")
            if key == "log":
                got = [counts.lines(f"{tool}|log-lines|{n}") for n in (a, b)]
                row[-1] += " [log lines received: " + ", ".join(
                    f"{'?' if g is None else format(g, ',')} of {hot_line_hits(30 + n):,}"
                    for g, n in zip(got, (a, b))) + "]"
        if len(tools) == 2:
            row.append("" if bp is never else f"{per['debugpy'] / per['sleuth']:.0f}x"
                       if len(per) == 2 and per["sleuth"] > 0 else "-")
        rows.append(row)
    head = ["fib under DAP, over plain"] + tools
    return head + (["sleuth cheaper per hit"] if len(tools) == 2 else []), rows


# --- 2. and 3. wall-clock, through the adapters ---------------------------------

ADAPTERS = {
    "sleuth": [PY, "-m", "sleuth", "dap"],
    "debugpy": [PY, "-m", "debugpy.adapter"],
}

BIG = """\
big = list(range(100000))
x = 1  # STOP
"""


def adapter_session(tool, program, line):
    """Launch program through tool's adapter with a breakpoint on line; returns
    (client, seconds from launch to stopped, frame id)."""
    proc = subprocess.Popen(ADAPTERS[tool], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    c = DapClient(proc.stdout, proc.stdin, proc=proc)
    c.timeout = 120
    c.request("initialize", clientID="bench", adapterID="python", linesStartAt1=True,
              columnsStartAt1=True, pathFormat="path")
    t0 = time.perf_counter()
    seq = c.request_async("launch", program=program, console="internalConsole",
                          justMyCode=True)
    c.wait_event("initialized")
    c.request("setBreakpoints", source={"path": program}, breakpoints=[{"line": line}])
    c.request("setExceptionBreakpoints", filters=[])
    c.request("configurationDone")
    ev = c.wait_event("stopped")
    dt = time.perf_counter() - t0
    c.response(seq)
    st = c.request("stackTrace", threadId=ev["body"]["threadId"], levels=1)
    return c, dt, st["body"]["stackFrames"][0]["id"]


def one_session(tool, prog):
    """(seconds launch->stopped, seconds and item count of a whole variables
    request on the list, seconds and item count of its first page of 100)."""
    c, dt, fid = adapter_session(tool, prog, 2)
    sc = c.request("scopes", frameId=fid)["body"]["scopes"]
    ref = next(s for s in sc if s["name"].lower().startswith("locals")
               or s["name"].lower().startswith("globals"))["variablesReference"]
    vs = c.request("variables", variablesReference=ref)["body"]["variables"]
    big = next(v for v in vs if v["name"] == "big")["variablesReference"]
    got = []
    for paging in ({}, {"filter": "indexed", "start": 0, "count": 100}):
        t0 = time.perf_counter()
        r = c.request("variables", variablesReference=big, **paging)
        got += [time.perf_counter() - t0, len(r["body"]["variables"])]
        if not r["success"]:
            raise RuntimeError(f"{tool}: variables failed: {r.get('message')}")
    c.request("disconnect", terminateDebuggee=True)
    c.close()
    return [dt] + got


def wallclock(tools, runs):
    with tempfile.TemporaryDirectory() as d:
        prog = os.path.join(d, "big.py")
        with open(prog, "w") as f:
            f.write(BIG)
        res = {t: [] for t in tools}
        for _ in range(runs):               # the tools alternate: both see the same load
            for tool in tools:
                res[tool].append(one_session(tool, prog))
        names = ["launch to first stopped", "variables, 100,000-item list, whole",
                 "variables, 100,000-item list, first 100 (start/count)"]
        rows = []
        for i, name in enumerate(names):
            row = [name]
            for tool in tools:
                ms = statistics.median(r[i if i == 0 else 2 * i - 1] for r in res[tool]) * 1000
                row.append(f"{ms:.0f} ms" + ("" if i == 0 else
                                             f" ({res[tool][-1][2 * i]:,} items)"))
            rows.append(row)
        return [f"wall clock, median of {runs}"] + tools, rows


def table(head, rows):
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller fib, 2 runs")
    ap.add_argument("--only", choices=["instructions", "startup", "variables"])
    ap.add_argument("--counts", metavar="FILE",
                    help="keep instruction counts in FILE and reuse those already there")
    ap.add_argument("--fresh", action="append", default=[], metavar="TEXT",
                    help="with --counts: measure again the counts whose key has TEXT "
                         "(e.g. sleuth|cond); repeatable")
    ap.add_argument("--cases", default="never,cond,log",
                    help="comma-separated instruction cases: never, cond, log (default all)")
    ap.add_argument("--tools", default="sleuth,debugpy",
                    help="comma-separated: which of sleuth, debugpy to run (default both)")
    a = ap.parse_args()
    tools = []
    for tool, ok in (("sleuth", have_sleuth_server()), ("debugpy", have_debugpy())):
        if tool not in a.tools.split(","):
            continue
        if ok:
            tools.append(tool)
        else:
            print(f"({tool}: not measured: "
                  f"{'no debuggee server in this build' if tool == 'sleuth' else 'not installed'})")
    v = sys.version_info
    print(f"Python {v.major}.{v.minor}: DAP, sleuth vs debugpy\n")
    if not tools:
        return 0
    if a.only in (None, "instructions"):
        table(*instructions(tools, a.quick, Counts(a.counts, a.fresh),
                               a.cases.split(",")))
    if a.only in (None, "startup", "variables"):
        table(*wallclock(tools, 2 if a.quick else 5))
    return 0


if __name__ == "__main__":
    sys.exit(main())
