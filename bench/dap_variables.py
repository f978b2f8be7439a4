"""Time of a DAP `variables` request on a 100,000-item list, on the
debuggee's own server (`python -m sleuth --listen`) and, when installed,
debugpy's (`python -m debugpy --listen`): the request a client makes when
the user expands the list, without paging (what nvim-dap and dap-mode send)
and with a 100-item window (what VS Code sends for indexedVariables).

    python bench/dap_variables.py [--python PY] [--repeat N] [--tools sleuth,debugpy]

Prints one line per tool and request: the median wall time of N requests
over loopback, and how many children came back.
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

PROGRAM = "big = list(range(100000))\nx = 1\nprint('end')\n"


def measure(tool, python, repeat):
    with tempfile.TemporaryDirectory() as d:
        prog = os.path.join(d, "prog.py")
        with open(prog, "w") as f:
            f.write(PROGRAM)
        port = free_port()
        p = subprocess.Popen([python, "-m", tool, "--listen", "127.0.0.1:%d" % port,
                              "--wait-for-client", prog],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_listening(port)
            c = DapClient.connect("127.0.0.1", port)
            c.request("initialize", adapterID="bench", linesStartAt1=True,
                      supportsVariablePaging=True)
            c.request_async("attach", justMyCode=True)
            c.wait_event("initialized")
            c.request("setBreakpoints", source={"path": prog}, breakpoints=[{"line": 2}])
            c.request("configurationDone")
            tid = c.wait_event("stopped", timeout=60)["body"]["threadId"]
            fid = c.request("stackTrace", threadId=tid)["body"]["stackFrames"][0]["id"]
            scopes = c.request("scopes", frameId=fid)["body"]["scopes"]
            ref = scopes[0]["variablesReference"]
            loc = {v["name"]: v for v in c.request("variables", variablesReference=ref)["body"]["variables"]}
            big = loc["big"]["variablesReference"]
            out = []
            for label, kw in [("whole (no start/count)", {}),
                              ("window start=50000 count=100", {"start": 50000, "count": 100})]:
                times, n = [], 0
                for _ in range(repeat):
                    t = time.perf_counter()
                    r = c.request("variables", variablesReference=big, _timeout=300, **kw)
                    times.append(time.perf_counter() - t)
                    n = len(r["body"]["variables"])
                out.append((label, statistics.median(times), n))
            c.request("continue", threadId=tid)
            c.request_async("disconnect")
            c.close()
            return out
        finally:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--tools", default="sleuth,debugpy")
    a = ap.parse_args()
    for tool in a.tools.split(","):
        if subprocess.run([a.python, "-c", "import " + tool], capture_output=True).returncode:
            print("%-8s not installed for %s" % (tool, a.python))
            continue
        for label, t, n in measure(tool, a.python, a.repeat):
            print("%-8s %-30s %8.1f ms  %6d children" % (tool, label, t * 1000, n))


if __name__ == "__main__":
    main()
