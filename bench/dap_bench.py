"""Debugging over DAP: sleuth against debugpy, side by side in one run.

    python bench/dap_bench.py [--quick] [--only instructions|startup|variables]

1. Instructions (callgrind, as bench/instructions.sh) of fib under a DAP
   session, over plain: a never-hit breakpoint in the running file, a false
   conditional breakpoint on fib's hot line (`n == -1`), and a log point on
   it. The program runs under valgrind with `--listen --wait-for-client`
   (sleuth's and debugpy's), a client connects straight to it, sets the
   breakpoint and runs to the end; two sizes of fib cancel start-up. Cost per
   hit = extra instructions / hits of the hot line.
2. Time from `launch` to the first `stopped` event, through each adapter
   (`sleuth dap`, `python -m debugpy.adapter`): median of 5 wall-clock runs.
3. A `variables` request on a 100,000-item list: median of 5.

A tool that cannot run (no debuggee server in this sleuth build, debugpy not
installed) is reported as such, not guessed.
"""
import argparse
import os
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


def bench_env():
    return dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=HERE)


def plain_count(scale):
    _, count = callgrind([PY, WORKLOADS, "fib", str(scale)], bench_env())
    return count()


def dap_count(tool, scale, bp):
    """fib(30+scale) under `TOOL --listen`, a client setting bp and running."""
    port = free_port()
    mod = {"sleuth": "sleuth", "debugpy": "debugpy"}[tool]
    p, count = callgrind([PY, "-m", mod, "--listen", f"127.0.0.1:{port}", "--wait-for-client",
                          WORKLOADS, "fib", str(scale)], bench_env())
    wait_listening(port, timeout=600)
    c = DapClient.connect("127.0.0.1", port)
    c.timeout = 1800
    r = c.request("initialize", clientID="bench", adapterID="python", linesStartAt1=True,
                  columnsStartAt1=True, pathFormat="path")
    assert r["success"], r
    seq = c.request_async("attach", justMyCode=True)
    c.wait_event("initialized")
    r = c.request("setBreakpoints", source={"path": WORKLOADS}, breakpoints=[bp])
    assert r["success"], r
    c.request("setExceptionBreakpoints", filters=[])
    c.request("configurationDone")
    c.response(seq)
    rc = count()
    c.close()
    return rc


def hot_line_hits(n):
    # fib(k) for k >= 2 runs the return line once: count calls with n >= 2
    memo = {0: 0, 1: 0}
    for k in range(2, n + 1):
        memo[k] = 1 + memo[k - 1] + memo[k - 2]
    return memo[n]


def instructions(tools, quick):
    never = {"line": line_of("# NEVER_LINE")}
    hot = line_of("# FIB_BODY_LINE")
    cases = [("never-hit breakpoint", never),
             ("false conditional breakpoint", {"line": hot, "condition": "n == -1"}),
             ("log point", {"line": hot, "logMessage": "{n}"})]
    a, b = (-16, -14) if quick else (-12, -9)
    hits = hot_line_hits(30 + b) - hot_line_hits(30 + a)
    pa, pb = plain_count(a), plain_count(b)
    rows = []
    for name, bp in cases:
        row = [name]
        for tool in tools:
            sa, sb = dap_count(tool, a, bp), dap_count(tool, b, bp)
            ratio = (sb - sa) / (pb - pa)
            per_hit = (sb - sa - (pb - pa)) / hits
            row.append(f"{ratio:.2f}x" + ("" if bp is never else f", {per_hit:,.0f}/hit"))
        rows.append(row)
    return ["case"] + [f"{t} (x plain instr.)" for t in tools], rows


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


def wallclock(tools, runs):
    with tempfile.TemporaryDirectory() as d:
        prog = os.path.join(d, "big.py")
        with open(prog, "w") as f:
            f.write(BIG)
        rows = {"launch to first stopped": [], "variables, 100,000-item list": []}
        for tool in tools:
            starts, varis = [], []
            for _ in range(runs):
                c, dt, fid = adapter_session(tool, prog, 2)
                starts.append(dt)
                sc = c.request("scopes", frameId=fid)["body"]["scopes"]
                ref = next(s for s in sc if s["name"].lower().startswith("locals")
                           or s["name"].lower().startswith("globals"))["variablesReference"]
                vs = c.request("variables", variablesReference=ref)["body"]["variables"]
                big = next(v for v in vs if v["name"] == "big")["variablesReference"]
                t0 = time.perf_counter()
                r = c.request("variables", variablesReference=big)
                varis.append(time.perf_counter() - t0)
                assert r["success"], r
                c.request("disconnect", terminateDebuggee=True)
                c.close()
            rows["launch to first stopped"].append(f"{statistics.median(starts) * 1000:.0f} ms")
            rows["variables, 100,000-item list"].append(
                f"{statistics.median(varis) * 1000:.0f} ms ({len(r['body']['variables'])} shown)")
        return ["measure"] + tools, [[k] + v for k, v in rows.items()]


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
    a = ap.parse_args()
    tools = []
    for tool, ok in (("sleuth", have_sleuth_server()), ("debugpy", have_debugpy())):
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
        table(*instructions(tools, a.quick))
    if a.only in (None, "startup", "variables"):
        table(*wallclock(tools, 2 if a.quick else 5))
    return 0


if __name__ == "__main__":
    sys.exit(main())
