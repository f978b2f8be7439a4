"""The debuggee's own DAP server: `python -m sleuth --listen/--connect`,
sleuth.listen() and the requests a client makes of a stopped program."""
import json
import os
import re
import select
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from dapclient import DapClient, env_without_sleuth_autostart

PROG = textwrap.dedent("""\
    import sys
    def add(a, b):
        c = a + b
        return c

    def outer(n):
        r = add(n, 1)
        return r * 2

    data = {"k": [1, 2, 3], "s": "x" * 5}
    big = list(range(300))
    total = 0
    for i in range(5):
        total = add(total, i)
    print("total", total)
    print("outer", outer(10))
    """)


class Debuggee:
    """A program under `python -m sleuth --listen 127.0.0.1:0 --wait-for-client`."""

    def __init__(self, tmp_path, source=PROG, args=(), wait=True, attach=True, argv=None):
        self.path = tmp_path / "prog.py"
        self.path.write_text(source)
        cmd = argv or [sys.executable, "-m", "sleuth", "--listen", "127.0.0.1:0",
                       *(["--wait-for-client"] if wait else []), str(self.path), *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=str(tmp_path), env=env_without_sleuth_autostart())
        line = self.proc.stderr.readline().decode()
        m = re.match(r"sleuth: listening on 127\.0\.0\.1:(\d+)$", line.strip())
        assert m, line
        self.port = int(m.group(1))
        self.c = DapClient.connect("127.0.0.1", self.port)
        if attach:
            r = self.c.request("initialize", adapterID="test", linesStartAt1=True)
            assert r["success"], r
            self.c.wait_event("initialized")
            assert self.c.request("attach")["success"]

    def bps(self, *lines, **kw):
        r = self.c.request("setBreakpoints", source={"path": str(self.path)},
                           breakpoints=[dict(line=n, **kw) for n in lines])
        assert r["success"], r
        return r["body"]["breakpoints"]

    def go(self):
        assert self.c.request("configurationDone")["success"]

    def stopped(self, n=1):
        """The n-th stopped event's body (1-based) since the start."""
        def find():
            evs = [e for e in self.c.events if e["event"] == "stopped"]
            return evs if len(evs) >= n else None
        return self.c._wait(find, "stop number %d" % n, None)[n - 1]["body"]

    def top(self, tid):
        r = self.c.request("stackTrace", threadId=tid)
        assert r["success"], r
        return r["body"]["stackFrames"]

    def locals_of(self, frame_id):
        sc = self.c.request("scopes", frameId=frame_id)["body"]["scopes"]
        ref = [s for s in sc if s["name"] == "Locals"][0]["variablesReference"]
        return {v["name"]: v for v in self.c.request("variables", variablesReference=ref)["body"]["variables"]}

    def finish(self, timeout=30):
        out, err = self.proc.communicate(timeout=timeout)
        self.c.close()
        return self.proc.returncode, out.decode(), err.decode()


def plain_run(tmp_path, source=PROG):
    p = tmp_path / "plain.py"
    p.write_text(source)
    r = subprocess.run([sys.executable, str(p)], capture_output=True, timeout=60,
                       env=env_without_sleuth_autostart())
    return r.returncode, r.stdout.decode()


# --- breakpoints and what a stop shows ------------------------------------------


def test_breakpoint_stack_scopes_variables_nested_and_paged(tmp_path):
    d = Debuggee(tmp_path)
    b = d.bps(3)
    assert b[0]["verified"] and b[0]["line"] == 3
    d.go()
    st = d.stopped()
    assert st["reason"] == "breakpoint" and st["allThreadsStopped"] is False
    assert st["hitBreakpointIds"] == [b[0]["id"]]
    tid = st["threadId"]
    assert tid in [t["id"] for t in d.c.request("threads")["body"]["threads"]]
    frames = d.top(tid)
    assert [(f["name"], f["line"]) for f in frames] == [("add", 3), ("<module>", 14)]
    assert frames[0]["source"]["path"] == str(d.path)
    # paging the stack
    r = d.c.request("stackTrace", threadId=tid, startFrame=1, levels=1)["body"]
    assert [f["name"] for f in r["stackFrames"]] == ["<module>"] and r["totalFrames"] == 2
    loc = d.locals_of(frames[0]["id"])
    assert loc["a"]["value"] == "0" and loc["a"]["type"] == "int" and loc["a"]["evaluateName"] == "a"
    sc = d.c.request("scopes", frameId=frames[1]["id"])["body"]["scopes"]
    gref = [s for s in sc if s["name"] == "Globals"][0]["variablesReference"]
    g = {v["name"]: v for v in d.c.request("variables", variablesReference=gref)["body"]["variables"]}
    data = g["data"]
    assert data["variablesReference"] > 0
    kids = {v["name"]: v for v in d.c.request("variables", variablesReference=data["variablesReference"])["body"]["variables"]}
    assert kids["'k'"]["value"] == "[1, 2, 3]" and kids["'k'"]["evaluateName"] == "data['k']"
    inner = d.c.request("variables", variablesReference=kids["'k'"]["variablesReference"])["body"]["variables"]
    assert [(v["name"], v["value"], v["evaluateName"]) for v in inner] == [
        ("0", "1", "data['k'][0]"), ("1", "2", "data['k'][1]"), ("2", "3", "data['k'][2]")]
    # the same value keeps its reference within the stop
    again = {v["name"]: v for v in d.c.request("variables", variablesReference=gref)["body"]["variables"]}
    assert again["data"]["variablesReference"] == data["variablesReference"]
    big = g["big"]
    assert big["indexedVariables"] == 300
    page = d.c.request("variables", variablesReference=big["variablesReference"], start=290, count=5)
    assert [(v["name"], v["value"]) for v in page["body"]["variables"]] == [
        (str(i), str(i)) for i in range(290, 295)]
    assert d.c.request("continue", threadId=tid)["success"]
    st2 = d.stopped(2)
    assert st2["reason"] == "breakpoint"
    # a reference from the first stop is refused now
    r = d.c.request("variables", variablesReference=data["variablesReference"])
    assert not r["success"] and "earlier stop" in r["message"]
    d.bps()
    d.c.request("continue", threadId=tid)
    rc, out, err = d.finish()
    assert rc == 0 and out == "total 10\nouter 22\n", err
    assert d.c.wait_event("exited")["body"]["exitCode"] == 0
    d.c.wait_event("terminated")


def test_hostile_repr_is_bounded(tmp_path):
    src = textwrap.dedent("""\
        class Slow:
            def __repr__(self):
                while True:
                    pass
        class Raises:
            def __repr__(self):
                raise ValueError("no")
        s, r = Slow(), Raises()
        print("done")
        """)
    d = Debuggee(tmp_path, src)
    d.bps(9)
    d.go()
    tid = d.stopped()["threadId"]
    loc = d.locals_of(d.top(tid)[0]["id"])
    assert loc["s"]["value"] == "<repr timed out>"
    assert loc["r"]["value"] == "<repr failed: ValueError>"
    d.c.request("continue", threadId=tid)
    rc, out, _ = d.finish()
    assert rc == 0 and out == "done\n"


def test_evaluate_and_set_variable(tmp_path):
    d = Debuggee(tmp_path)
    d.bps(3)
    d.go()
    tid = d.stopped()["threadId"]
    fid = d.top(tid)[0]["id"]
    r = d.c.request("evaluate", expression="a + 100", frameId=fid, context="watch")
    assert r["success"] and r["body"]["result"] == "100"
    r = d.c.request("evaluate", expression="[a, b, 7]", frameId=fid, context="hover")
    assert r["body"]["result"] == "[0, 0, 7]" and r["body"]["variablesReference"] > 0
    # an error is the response's message; the program sees no exception
    r = d.c.request("evaluate", expression="1/0", frameId=fid, context="repl")
    assert not r["success"] and r["message"] == "ZeroDivisionError: division by zero"
    r = d.c.request("evaluate", expression="undefined_name", frameId=fid, context="watch")
    assert not r["success"] and "NameError" in r["message"]
    # statements only in the repl
    r = d.c.request("evaluate", expression="zz = 5", frameId=fid, context="watch")
    assert not r["success"] and "SyntaxError" in r["message"]
    r = d.c.request("evaluate", expression="zz = 5", frameId=fid, context="repl")
    assert r["success"]
    assert d.c.request("evaluate", expression="zz", frameId=fid)["body"]["result"] == "5"
    sc = d.c.request("scopes", frameId=fid)["body"]["scopes"]
    lref = sc[0]["variablesReference"]
    r = d.c.request("setVariable", variablesReference=lref, name="a", value="1000")
    assert r["success"] and r["body"]["value"] == "1000"
    r = d.c.request("setVariable", variablesReference=lref, name="a", value="1/0")
    assert not r["success"] and "ZeroDivisionError" in r["message"]
    r = d.c.request("setExpression", expression="b", value="b + 5", frameId=fid)
    assert r["success"] and r["body"]["value"] == "5"
    d.bps()
    d.c.request("continue", threadId=tid)
    rc, out, err = d.finish()
    # a = 1000, b = 5 in the first call: 1005 + 1 + 2 + 3 + 4
    assert rc == 0 and out == "total 1015\nouter 22\n", err


def test_step_over_in_out(tmp_path):
    d = Debuggee(tmp_path)
    d.bps(16)
    d.go()
    tid = d.stopped()["threadId"]
    assert d.top(tid)[0]["line"] == 16
    d.c.request("stepIn", threadId=tid)
    assert d.stopped(2)["reason"] == "step"
    f = d.top(tid)
    assert (f[0]["name"], f[0]["line"]) == ("outer", 7)
    d.c.request("next", threadId=tid)
    d.stopped(3)
    assert d.top(tid)[0]["line"] == 8
    d.c.request("stepOut", threadId=tid)
    d.stopped(4)
    f = d.top(tid)
    assert f[0]["name"] == "<module>" and f[0]["line"] == 16
    d.c.request("continue", threadId=tid)
    rc, out, _ = d.finish()
    assert rc == 0 and out.endswith("outer 22\n")


def test_step_in_skips_library_code_with_just_my_code(tmp_path):
    src = textwrap.dedent("""\
        import json
        def f(x):
            return x + 1
        s = json.dumps([1])
        y = f(2)
        print(s, y)
        """)
    d = Debuggee(tmp_path, src)
    d.bps(4)
    d.go()
    tid = d.stopped()["threadId"]
    d.c.request("stepIn", threadId=tid)
    d.stopped(2)
    f = d.top(tid)[0]
    # not inside json/: the next line of the program's own code
    assert f["source"]["path"] == str(d.path) and f["line"] == 5
    d.c.request("continue", threadId=tid)
    rc, out, _ = d.finish()
    assert out == "[1] 3\n"


# --- conditions, hit counts, log points, function breakpoints ----------------------


def test_condition_hit_condition_and_log_point(tmp_path):
    d = Debuggee(tmp_path)
    r = d.c.request("setBreakpoints", source={"path": str(d.path)}, breakpoints=[
        {"line": 3, "condition": "a == 6"},
        {"line": 4, "hitCondition": "3"},
        {"line": 14, "logMessage": "i={i} total={total} {{braces}} s={data['s']} k={data['k']}"},
        {"line": 15, "logMessage": "total={total} {nope}"},
    ])
    assert all(b["verified"] for b in r["body"]["breakpoints"]), r
    d.go()
    # line 4's third hit comes first: the calls are add(0, 0), add(0, 1), add(1, 2)
    st = d.stopped()
    tid = st["threadId"]
    assert st["reason"] == "breakpoint" and st["hitBreakpointIds"] == [r["body"]["breakpoints"][1]["id"]]
    top = d.top(tid)[0]
    assert top["line"] == 4
    assert d.c.request("evaluate", expression="(a, b)", frameId=top["id"])["body"]["result"] == "(1, 2)"
    d.c.request("continue", threadId=tid)
    # then the condition: add(6, 4), the fifth call
    d.stopped(2)
    top = d.top(tid)[0]
    assert top["line"] == 3
    assert d.c.request("evaluate", expression="(a, b)", frameId=top["id"])["body"]["result"] == "(6, 4)"
    d.c.request("continue", threadId=tid)
    rc, out, _ = d.finish()
    assert rc == 0 and out == "total 10\nouter 22\n"
    d.c.wait_event("terminated")
    assert len([e for e in d.c.events if e["event"] == "stopped"]) == 2
    # log points: the console, str() of each value (as debugpy's '%s'); an
    # expression that raises makes the line its message, as debugpy shows it
    logs = [e["body"] for e in d.c.events if e["event"] == "output" and e["body"]["category"] == "console"]
    assert [b["output"] for b in logs] == [
        "i=%d total=%d {braces} s=xxxxx k=[1, 2, 3]\n" % (i, t) for i, t in zip(range(5), [0, 0, 1, 3, 6])
    ] + ["name 'nope' is not defined\n"]
    assert logs[0]["line"] == 14 and logs[0]["source"]["path"] == str(d.path)


def test_hot_log_point_while_the_client_asks_does_not_deadlock(tmp_path):
    # The program's thread writes output events while the reader thread
    # writes responses: neither may wait for the other's write lock holding
    # the GIL (it deadlocked about 1 run in 10 under load before).
    flag = tmp_path / "stop"
    # (a short sleep per turn: the client reads every event, it must keep up)
    src = ("import os, time\nn = 0\nwhile not os.path.exists(%r):\n    n += 1\n    time.sleep(0.0002)\n"
           "print('done')\n" % str(flag))
    d = Debuggee(tmp_path, src)
    d.bps(4, logMessage="{n}")
    d.go()
    d.c.wait_output("0\n", category="console")
    for _ in range(100):
        assert d.c.request("threads")["success"]
    # (the requests are fast now: let more than 100 log lines come before the end)
    d.c._wait(lambda: d.c.output.get("console", "").count("\n") > 100, "101 log lines", None)
    flag.write_text("")
    rc, out, _ = d.finish()
    assert rc == 0 and out == "done\n"
    d.c.wait_event("terminated")
    logs = [e["body"]["output"] for e in d.c.events
            if e["event"] == "output" and e["body"]["category"] == "console"]
    assert len(logs) > 100 and logs == ["%d\n" % k for k in range(len(logs))]


class RawClient:
    """A DAP client on a plain socket that reads only when told to, and as
    slowly as told: a client that falls behind a flood of output."""

    def __init__(self, port, rcvbuf=None):
        self.s = socket.socket()
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.connect(("127.0.0.1", port))
        self.buf = bytearray()
        self.seq = 0

    def send(self, command, **arguments):
        self.seq += 1
        body = json.dumps({"seq": self.seq, "type": "request", "command": command,
                           "arguments": arguments}).encode()
        self.s.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self.seq

    def message(self, pause=0.0):
        """The next message; `pause` seconds between reads of 4 KiB."""
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                n = int(re.search(rb"Content-Length: (\d+)", bytes(self.buf[:end])).group(1))
                if len(self.buf) >= end + 4 + n:
                    body = bytes(self.buf[end + 4:end + 4 + n])
                    del self.buf[:end + 4 + n]
                    return json.loads(body)
            chunk = self.s.recv(4096)
            assert chunk, "the debuggee closed the connection"
            self.buf.extend(chunk)
            if pause:
                time.sleep(pause)

    def until_response(self, seq, pause=0.0):
        """(output events read before it, the response to request `seq`)."""
        outputs = []
        while True:
            m = self.message(pause)
            if m["type"] == "response" and m["request_seq"] == seq:
                return outputs, m
            if m.get("event") == "output":
                outputs.append(m)


def test_a_response_does_not_wait_behind_a_flood_of_log_output(tmp_path):
    # A log point on a hot line, and a client that reads slowly: the
    # program's output events used to share one write lock with the
    # responses, and the program's thread, writing in a loop, kept taking
    # it (and filled megabytes of socket buffer) while `threads` waited:
    # 16,000-25,000 output events came between the request and its answer
    # (3.12, the client reading 4 KiB every 2 ms). The answer now waits for
    # what is already in the kernel's buffers (a few hundred events with
    # this client's small receive buffer), never for the queued output.
    src = "n = 0\nwhile True:\n    n += 1\n"
    d = Debuggee(tmp_path, src, attach=False)
    d.c.close()     # (the Debuggee's own client: this test has a raw one)
    c = RawClient(d.port, rcvbuf=8192)
    for cmd, kw in [("initialize", {"adapterID": "t"}), ("attach", {}),
                    ("setBreakpoints", {"source": {"path": str(d.path)},
                                        "breakpoints": [{"line": 3, "logMessage": "{n}"}]}),
                    ("configurationDone", {})]:
        assert c.until_response(c.send(cmd, **kw))[1]["success"]
    while c.message().get("event") != "output":
        pass
    between = []
    for _ in range(5):
        outputs, r = c.until_response(c.send("threads"), pause=0.002)
        assert r["success"] and r["body"]["threads"], r
        between.append(len(outputs))
    c.send("disconnect", terminateDebuggee=True)
    while c.s.recv(65536):      # (read on: the program's last writes must go out)
        pass
    d.proc.wait(timeout=60)
    c.s.close()
    assert max(between) < 2000, between


FORKS = """\
import os, sys
def work(x):
    y = x * 2
    return y
pid = os.fork()
if pid == 0:
    r = work(21)
    sys.stdout.write("child %d\\n" % r)
    sys.stdout.flush()
    if len(sys.argv) > 1:
        sys.exit(0)     # the child's end goes through sleuth's own end
    os._exit(0)
os.waitpid(pid, 0)
print("parent", work(1))
"""


@pytest.mark.parametrize("child_end", ["os._exit", "sys.exit"])
def test_a_forked_child_runs_on_without_the_client(tmp_path, child_end):
    # A forked child inherits the server's sockets but not its threads. Its
    # breakpoint hit used to send `stopped` on the parent's connection and
    # wait for commands that the parent's reader took: the child, and the
    # parent in waitpid, hung forever (and a child ending through sys.exit
    # told the client the program had exited). The child now runs on
    # untraced; the client sees the parent's stop only.
    d = Debuggee(tmp_path, FORKS, args=["x"] if child_end == "sys.exit" else [])
    d.bps(3)
    d.go()
    b = d.stopped(1)
    frames = d.top(b["threadId"])
    assert frames[0]["name"] == "work" and frames[0]["line"] == 3, frames
    assert d.locals_of(frames[0]["id"])["x"]["value"] == "1"
    assert d.c.request("continue", threadId=b["threadId"])["success"]
    rc, out, _ = d.finish(timeout=60)
    assert rc == 0 and out == "child 42\nparent 2\n", (rc, out)
    assert len([e for e in d.c.events if e["event"] == "stopped"]) == 1
    assert len([e for e in d.c.events if e["event"] == "exited"]) <= 1


def test_log_lines_come_before_the_stop_that_follows_them(tmp_path):
    # A log point fires 3,000 times, then a breakpoint stops the program. The
    # output queue's writer thread used to lag behind the program's thread,
    # so `stopped` (written straight away) overtook log lines still queued:
    # the debug console showed lines logged before the stop after it. Every
    # line now comes before the `stopped` event, in order.
    src = "for n in range(3000):\n    pass\nx = 1\n"
    d = Debuggee(tmp_path, src, attach=False)
    d.c.close()
    c = RawClient(d.port, rcvbuf=8192)
    for cmd, kw in [("initialize", {"adapterID": "t"}), ("attach", {}),
                    ("setBreakpoints", {"source": {"path": str(d.path)},
                                        "breakpoints": [{"line": 2, "logMessage": "{n}"},
                                                        {"line": 3}]}),
                    ("configurationDone", {})]:
        assert c.until_response(c.send(cmd, **kw))[1]["success"]
    logged = []
    while True:
        m = c.message(pause=0.001)
        if m.get("event") == "stopped":
            break
        if m.get("event") == "output":
            logged.append(m["body"]["output"])
    assert logged == ["%d\n" % n for n in range(3000)], (len(logged), logged[-3:])
    c.send("disconnect", terminateDebuggee=True)
    while c.s.recv(65536):
        pass
    d.proc.wait(timeout=60)
    c.s.close()


def test_a_client_that_stops_reading_does_not_stop_the_program(tmp_path):
    # The client reads nothing while a log point fires 60,000 times. The
    # program's thread used to block in its write once the socket was full,
    # for as long as the client did not read (forever). Now it waits at most
    # a second for room in the output queue, then the events are dropped and
    # counted, and the client is told how many, where they were.
    flag = tmp_path / "go"
    src = ("import os, sys, time\nfor n in range(60000):\n    pass\n"
           "print('loop done', flush=True)\n"
           "while not os.path.exists(%r):\n    time.sleep(0.01)\n" % str(flag))
    d = Debuggee(tmp_path, src, attach=False)
    d.c.close()
    c = RawClient(d.port)
    for cmd, kw in [("initialize", {"adapterID": "t"}), ("attach", {}),
                    ("setBreakpoints", {"source": {"path": str(d.path)},
                                        "breakpoints": [{"line": 3, "logMessage": "{n}"}]}),
                    ("configurationDone", {})]:
        assert c.until_response(c.send(cmd, **kw))[1]["success"]
    # not reading: the loop still ends
    ready = select.select([d.proc.stdout], [], [], 120)[0]
    assert ready, "the program is blocked"
    assert d.proc.stdout.readline() == b"loop done\n"
    flag.write_text("")
    logs, dropped = [], []
    while True:
        m = c.message()
        if m.get("event") == "terminated":
            break
        if m.get("event") == "output":
            text = m["body"]["output"]
            if text.startswith("sleuth: "):
                k = re.fullmatch(r"sleuth: (\d+) output events dropped here: "
                                 r"the client did not read them\n", text)
                assert k, text
                dropped.append((len(logs), int(k.group(1))))
            else:
                logs.append(int(text))
    assert d.proc.wait(timeout=60) == 0
    c.s.close()
    assert dropped, "nothing was dropped: the test did not fill the queue"
    # each gap is where the notice is, and as long as it says
    expect, at = [], 0
    for pos, count in dropped:
        expect += range(at, at + pos - len(expect))
        at = expect[-1] + 1 + count if expect else count
    expect += range(at, at + len(logs) - len(expect))
    assert logs == expect
    assert len(logs) + sum(n for _, n in dropped) == 60000


def test_thread_events_while_the_client_is_silent(tmp_path):
    # The idle reader looks at the threads only when the process's OS
    # threads changed (it no longer takes the GIL 5 times a second for
    # nothing): a thread that starts, and then ends, while the client sends
    # nothing is still announced, both times.
    f1, f2, f3 = (tmp_path / n for n in ("one", "two", "three"))
    src = textwrap.dedent("""\
        import os, threading, time
        def wait(p):
            while not os.path.exists(p):
                time.sleep(0.01)
        wait(%r)
        t = threading.Thread(target=wait, args=(%r,))
        t.start()
        t.join()
        wait(%r)
        print("done")
        """ % (str(f1), str(f2), str(f3)))
    d = Debuggee(tmp_path, src)
    d.go()
    main_id = d.c.request("threads")["body"]["threads"][0]["id"]
    n = len(d.c.events)
    f1.write_text("")
    started = d.c._wait(lambda: [e for e in d.c.events[n:] if e["event"] == "thread"], "a thread event", None)
    assert started[0]["body"]["reason"] == "started" and started[0]["body"]["threadId"] != main_id
    wid = started[0]["body"]["threadId"]
    n = len(d.c.events)
    f2.write_text("")
    ended = d.c._wait(lambda: [e for e in d.c.events[n:] if e["event"] == "thread"], "a thread event", None)
    assert ended[0]["body"] == {"reason": "exited", "threadId": wid}
    # no request came from the client meanwhile
    assert d.c.seq == 4
    f3.write_text("")
    rc, out, _ = d.finish()
    assert rc == 0 and out == "done\n"


def test_hit_condition_forms(tmp_path):
    # debugpy's forms: N and == N (that hit), >= N, > N, < N, <= N, % N (every N-th)
    src = textwrap.dedent("""\
        for i in range(1, 11):
            a = i
            b = i
            c = i
            d = i
            e = i
        print("done")
        """)
    d = Debuggee(tmp_path, src)
    forms = {2: "== 4", 3: ">= 9", 4: "% 4", 5: "<2", 6: "> 9"}
    r = d.c.request("setBreakpoints", source={"path": str(d.path)},
                    breakpoints=[{"line": n, "hitCondition": hc} for n, hc in forms.items()])
    assert all(b["verified"] for b in r["body"]["breakpoints"]), r
    d.go()
    seen = []
    while True:
        ev = d.c._wait(lambda: [e for e in d.c.events
                                if e["event"] in ("stopped", "terminated")][len(seen):] or None,
                       "a stop or the end", None)[0]
        if ev["event"] == "terminated":
            break
        tid = ev["body"]["threadId"]
        top = d.top(tid)[0]
        i = d.c.request("evaluate", expression="i", frameId=top["id"])["body"]["result"]
        seen.append((top["line"], int(i)))
        d.c.request("continue", threadId=tid)
    rc, out, _ = d.finish()
    assert rc == 0 and out == "done\n"
    assert seen == [(5, 1), (2, 4), (4, 4), (4, 8), (3, 9), (3, 10), (6, 10)]


def test_bad_breakpoints_are_unverified_with_a_reason(tmp_path):
    d = Debuggee(tmp_path)
    r = d.c.request("setBreakpoints", source={"path": str(d.path)}, breakpoints=[
        {"line": 5}, {"line": 3, "condition": "a ==="}, {"line": 3, "hitCondition": "lots"},
        {"line": 9999}])
    bs = r["body"]["breakpoints"]
    assert [b["verified"] for b in bs] == [False] * 4
    assert "no code" in bs[0]["message"] and "condition" in bs[1]["message"]
    assert "hit condition" in bs[2]["message"]
    d.go()
    rc, out, _ = d.finish()
    assert rc == 0 and out == "total 10\nouter 22\n"


def test_function_breakpoint(tmp_path):
    src = textwrap.dedent("""\
        import time
        def work(n):
            return n * 3
        def wait():
            time.sleep(0.2)
        wait()
        print(work(2))
        """)
    d = Debuggee(tmp_path, src)
    # the function is not defined yet when configured: unverified
    r = d.c.request("setFunctionBreakpoints", breakpoints=[{"name": "work"}])
    assert r["body"]["breakpoints"][0]["verified"] is False
    d.bps(5)
    d.go()
    tid = d.stopped()["threadId"]
    r = d.c.request("setFunctionBreakpoints", breakpoints=[{"name": "work"}])
    assert r["body"]["breakpoints"][0]["verified"] is True
    d.c.request("continue", threadId=tid)
    st = d.stopped(2)
    assert st["reason"] == "function breakpoint"
    assert d.top(tid)[0]["name"] == "work"
    d.c.request("continue", threadId=tid)
    rc, out, _ = d.finish()
    assert out == "6\n"


def test_function_breakpoint_with_condition_and_hit_condition(tmp_path):
    src = "def work(n):\n    return n * 3\nfor k in range(6):\n    work(k)\nprint('done')\n"
    d = Debuggee(tmp_path, src)
    d.bps(3)
    d.go()
    tid = d.stopped()["threadId"]
    r = d.c.request("setFunctionBreakpoints", breakpoints=[
        {"name": "work", "condition": "n % 2 == 1", "hitCondition": "2"}])
    assert r["body"]["breakpoints"][0]["verified"] is True
    d.bps()
    d.c.request("continue", threadId=tid)
    st = d.stopped(2)
    assert st["reason"] == "function breakpoint"
    top = d.top(tid)[0]
    # the second call with an odd n
    assert d.c.request("evaluate", expression="n", frameId=top["id"])["body"]["result"] == "3"
    d.c.request("continue", threadId=tid)
    rc, out, _ = d.finish()
    assert rc == 0 and out == "done\n"
    d.c.wait_event("terminated")
    assert len([e for e in d.c.events if e["event"] == "stopped"]) == 2


# --- exceptions -------------------------------------------------------------------


EXC_PROG = textwrap.dedent("""\
    def inner():
        raise KeyError("missing")
    def outer():
        try:
            inner()
        except KeyError as e:
            raise ValueError("bad value") from e
    try:
        outer()
    except ValueError:
        print("caught")
    outer()
    """)


def test_raised_exception_breakpoint(tmp_path):
    d = Debuggee(tmp_path, EXC_PROG)
    assert d.c.request("setExceptionBreakpoints", filters=["raised"])["success"]
    d.go()
    st = d.stopped()
    assert st["reason"] == "exception" and st["text"] == "KeyError"
    tid = st["threadId"]
    assert d.top(tid)[0]["name"] == "inner"
    info = d.c.request("exceptionInfo", threadId=tid)["body"]
    assert info["exceptionId"] == "KeyError" and info["description"] == "missing"
    assert d.c.request("setExceptionBreakpoints", filters=[])["success"]
    d.c.request("continue", threadId=tid)
    rc, out, err = d.finish()
    assert out == "caught\n" and rc == 1
    assert err.rstrip().endswith("ValueError: bad value")


def test_uncaught_exception_stop_with_chain(tmp_path):
    d = Debuggee(tmp_path, EXC_PROG)
    assert d.c.request("setExceptionBreakpoints", filters=["uncaught"])["success"]
    d.go()
    st = d.stopped()
    assert st["reason"] == "exception" and st["text"] == "ValueError"
    tid = st["threadId"]
    frames = d.top(tid)
    # where it was raised, its frames kept alive by the traceback (as debugpy)
    assert [(f["name"], f["line"]) for f in frames[:2]] == [("outer", 7), ("<module>", 12)]
    # the except clause's `e` is gone already: Python deletes it on the way out
    assert "e" not in d.locals_of(frames[0]["id"])
    info = d.c.request("exceptionInfo", threadId=tid)["body"]
    assert info["exceptionId"] == "ValueError" and info["breakMode"] == "unhandled"
    assert info["details"]["innerException"][0]["typeName"] == "KeyError"
    d.c.request("continue", threadId=tid)
    rc, out, err = d.finish()
    assert out == "caught\n" and rc == 1
    assert "Traceback (most recent call last)" in err and "ValueError: bad value" in err
    assert d.c.wait_event("exited")["body"]["exitCode"] == 1


THREAD_PROG = textwrap.dedent("""\
    import threading
    def work():
        x = 41
        raise KeyError("in thread")
    t = threading.Thread(target=work, name="worker")
    t.start()
    t.join()
    print("after")
    """)


def test_uncaught_exception_in_a_thread_stops_then_reports_as_plain(tmp_path):
    d = Debuggee(tmp_path, THREAD_PROG)
    assert d.c.request("setExceptionBreakpoints", filters=["uncaught"])["success"]
    d.go()
    st = d.stopped()
    assert st["reason"] == "exception" and st["text"] == "KeyError"
    tid = st["threadId"]
    frames = d.top(tid)
    assert (frames[0]["name"], frames[0]["line"]) == ("work", 4)
    assert d.locals_of(frames[0]["id"])["x"]["value"] == "41"
    info = d.c.request("exceptionInfo", threadId=tid)["body"]
    assert info["exceptionId"] == "KeyError" and info["breakMode"] == "unhandled"
    d.c.request("continue", threadId=tid)
    rc, out, err = d.finish()
    plain = subprocess.run([sys.executable, str(d.path)], capture_output=True, text=True, timeout=60,
                           env=env_without_sleuth_autostart())
    # the thread's report and the program's end are the plain run's
    assert (rc, out, err) == (plain.returncode, plain.stdout, plain.stderr)
    assert "Exception in thread worker" in err and err.rstrip().endswith("KeyError: 'in thread'")
    assert len([e for e in d.c.events if e["event"] == "stopped"]) == 1


def test_no_thread_stop_without_the_uncaught_filter(tmp_path):
    d = Debuggee(tmp_path, THREAD_PROG)
    assert d.c.request("setExceptionBreakpoints", filters=[])["success"]
    d.go()
    rc, out, err = d.finish()
    assert rc == 0 and out == "after\n" and "Exception in thread worker" in err
    d.c.wait_event("terminated")
    assert not [e for e in d.c.events if e["event"] == "stopped"]


# --- breakpoints verified when their code loads -------------------------------------


LATER_PROG = textwrap.dedent("""\
    import os, sys
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    with open(os.path.join(here, "later.py"), "w") as f:
        f.write("def f(x):\\n    y = x * 2\\n\\n    return y\\n")
    import later
    print(later.f(21))
    """)


def test_breakpoint_in_code_not_there_yet_is_verified_when_it_loads(tmp_path):
    d = Debuggee(tmp_path, LATER_PROG)
    later = tmp_path / "later.py"
    assert not later.exists()
    r = d.c.request("setBreakpoints", source={"path": str(later)}, breakpoints=[{"line": 2}, {"line": 3}])
    bs = r["body"]["breakpoints"]
    assert [b["verified"] for b in bs] == [False, False]
    assert all("Waiting for code to be loaded" in b["message"] for b in bs)
    d.go()
    st = d.stopped()
    # both answered when later.py was imported, before the stop in it
    changed = {e["body"]["breakpoint"]["id"]: e["body"] for e in d.c.events if e["event"] == "breakpoint"}
    assert {i: (b["reason"], b["breakpoint"]["verified"], b["breakpoint"]["line"])
            for i, b in changed.items()} == {bs[0]["id"]: ("changed", True, 2),
                                             bs[1]["id"]: ("changed", False, 3)}
    assert "no code" in changed[bs[1]["id"]]["breakpoint"]["message"]
    assert changed[bs[0]["id"]]["breakpoint"]["source"]["path"] == str(later)
    assert st["reason"] == "breakpoint" and st["hitBreakpointIds"] == [bs[0]["id"]]
    tid = st["threadId"]
    assert [(f["name"], f["line"]) for f in d.top(tid)[:2]] == [("f", 2), ("<module>", 7)]
    d.c.request("continue", threadId=tid)
    rc, out, _ = d.finish()
    assert rc == 0 and out == "42\n"


def test_breakpoint_in_a_module_on_disk_is_verified_by_its_source(tmp_path):
    # as debugpy does: the file is compiled (not run) to find the lines with code
    (tmp_path / "mod.py").write_text("# a comment\n\ndef f(x):\n    return x + 1\n")
    src = "import sys\nsys.path.insert(0, %r)\nimport mod\nprint(mod.f(1))\n" % str(tmp_path)
    d = Debuggee(tmp_path, src)
    r = d.c.request("setBreakpoints", source={"path": str(tmp_path / "mod.py")},
                    breakpoints=[{"line": 1}, {"line": 2}, {"line": 4}])
    assert [b["verified"] for b in r["body"]["breakpoints"]] == [False, False, True]
    d.go()
    st = d.stopped()
    assert d.top(st["threadId"])[0]["line"] == 4
    d.c.request("continue", threadId=st["threadId"])
    rc, out, _ = d.finish()
    assert rc == 0 and out == "2\n"
    assert not [e for e in d.c.events if e["event"] == "breakpoint"]


UU_PROG = textwrap.dedent("""\
    import json
    def bad(o):
        raise TypeError("cannot")
    def fine():
        try:
            raise KeyError("handled in the program")
        except KeyError:
            pass
    fine()
    try:
        json.dumps(object(), default=bad)
    except TypeError:
        print("caught")
    json.loads("[1]")
    """)


def test_user_unhandled_stops_where_an_exception_leaves_user_code_into_a_library(tmp_path):
    d = Debuggee(tmp_path, UU_PROG)
    assert d.c.request("setExceptionBreakpoints", filters=["userUnhandled"])["success"]
    d.go()
    st = d.stopped()
    assert st["reason"] == "exception" and st["text"] == "TypeError"
    tid = st["threadId"]
    frames = d.top(tid)
    # in bad(), which json's encoder called; not fine()'s KeyError (handled in
    # the program), not json's own exceptions
    assert (frames[0]["name"], frames[0]["line"]) == ("bad", 3)
    assert frames[0]["source"]["path"] == str(d.path)
    assert "json" in frames[1]["source"]["path"]
    assert "o" in d.locals_of(frames[0]["id"])
    info = d.c.request("exceptionInfo", threadId=tid)["body"]
    assert info["exceptionId"] == "TypeError" and info["breakMode"] == "userUnhandled"
    d.c.request("continue", threadId=tid)
    rc, out, err = d.finish()
    assert rc == 0 and out == "caught\n", err
    d.c.wait_event("terminated")
    assert len([e for e in d.c.events if e["event"] == "stopped"]) == 1


def test_user_unhandled_in_a_thread_stops_once(tmp_path):
    d = Debuggee(tmp_path, THREAD_PROG)
    assert d.c.request("setExceptionBreakpoints", filters=["uncaught", "userUnhandled"])["success"]
    d.go()
    st = d.stopped()
    tid = st["threadId"]
    assert d.top(tid)[0]["name"] == "work"
    assert d.c.request("exceptionInfo", threadId=tid)["body"]["breakMode"] == "userUnhandled"
    d.c.request("continue", threadId=tid)
    rc, out, err = d.finish()
    assert rc == 0 and out == "after\n" and "Exception in thread worker" in err
    d.c.wait_event("terminated")
    assert len([e for e in d.c.events if e["event"] == "stopped"]) == 1


# --- threads ------------------------------------------------------------------------


THREADS_PROG = textwrap.dedent("""\
    import _thread, threading
    def work(n):
        x = n * 2
        return x
    t = threading.Thread(target=work, args=(5,), name="worker-A")
    t.start()
    t.join()
    done = threading.Event()
    _thread.start_new_thread(lambda: done.set(), ())
    done.wait()
    print("done")
    """)


def test_thread_ids_and_thread_events(tmp_path):
    d = Debuggee(tmp_path, THREADS_PROG)
    d.bps(3, 11)
    d.go()
    st = d.stopped()
    wid = st["threadId"]
    threads = d.c.request("threads")["body"]["threads"]
    # one small id per thread, the same in `threads`, `stopped` and `thread` events
    assert {t["name"]: t["id"] for t in threads} == {"MainThread": 1, "worker-A": wid}
    evs = [e for e in d.c.events if e["event"] in ("thread", "stopped")]
    started = [e["body"]["threadId"] for e in evs if e["event"] == "thread" and e["body"]["reason"] == "started"]
    assert started[:2] == [1, wid]
    # the worker's `started` came before its stop
    assert evs.index([e for e in evs if e["event"] == "thread" and e["body"]["threadId"] == wid][0]) < \
        evs.index([e for e in evs if e["event"] == "stopped"][0])
    assert d.top(wid)[0]["name"] == "work"
    r = d.c.request("stackTrace", threadId=1)
    assert not r["success"] and "not stopped" in r["message"]
    d.c.request("continue", threadId=wid)
    st2 = d.stopped(2)
    assert st2["threadId"] == 1
    # the worker ended; a thread started with _thread came and went: its id is new
    ths = [e["body"] for e in d.c.events if e["event"] == "thread"]
    assert {"reason": "exited", "threadId": wid} in ths
    ids = [b["threadId"] for b in ths if b["reason"] == "started"]
    assert len(ids) == len(set(ids))
    assert [t["id"] for t in d.c.request("threads")["body"]["threads"]] == [1]
    d.c.request("continue", threadId=1)
    rc, out, err = d.finish()
    assert rc == 0 and out == "done\n", err


# --- pause, disconnect, terminate -----------------------------------------------


BUSY = textwrap.dedent("""\
    import sys
    n = 0
    print("looping", flush=True)
    while True:
        n += 1
        if n < 0:
            break
    """)


def test_pause_a_busy_loop_then_disconnect_leaves_it_running(tmp_path):
    d = Debuggee(tmp_path, BUSY)
    d.go()
    # the loop is running (a pause before it would stop at the first line)
    assert d.proc.stdout.readline() == b"looping\n"
    threads = d.c.request("threads")["body"]["threads"]
    tid = threads[0]["id"]
    assert d.c.request("pause", threadId=tid)["success"]
    st = d.stopped()
    assert st["reason"] == "pause" and st["threadId"] == tid
    f = d.top(tid)[0]
    assert f["line"] in (4, 5, 6)
    # make the loop end, then leave without terminating it
    fid = f["id"]
    assert d.c.request("evaluate", expression="n = -10**9", frameId=fid, context="repl")["success"]
    assert d.c.request("disconnect", terminateDebuggee=False)["success"]
    rc, out, err = d.finish()
    assert rc == 0, err


def test_disconnect_terminate_debuggee(tmp_path):
    d = Debuggee(tmp_path, BUSY)
    d.go()
    assert d.c.request("disconnect", terminateDebuggee=True)["success"]
    d.proc.wait(timeout=30)
    assert d.proc.returncode is not None


def test_abrupt_disconnect_while_stopped_resumes_without_breakpoints(tmp_path):
    d = Debuggee(tmp_path)
    d.bps(3)
    d.go()
    d.stopped()
    d.c.close()   # no disconnect request
    rc, out, err = d.proc.communicate(timeout=30)[0], None, None
    assert d.proc.returncode == 0
    assert rc.decode() == "total 10\nouter 22\n"


# --- bad input ----------------------------------------------------------------------


def test_malformed_messages_get_errors_and_the_program_goes_on(tmp_path):
    d = Debuggee(tmp_path)
    c = d.c
    n = len(c.messages)

    def last_error():
        # The answer to the bad message: a response, not an event (a `thread`
        # event may arrive in between).
        def responses():
            return [m for m in c.messages[n:] if m.get("type") == "response"]
        c._wait(lambda: responses(), "an answer", None)
        return responses()[-1]

    c.send_raw(b"{not json")
    m = last_error()
    assert m["success"] is False and "invalid JSON" in m["message"]
    n = len(c.messages)
    c.send_raw(b"[1, 2]")
    assert "JSON object" in last_error()["message"]
    n = len(c.messages)
    c.send_raw(b"{}", header=b"Content-Length: abc\r\n\r\n")
    assert last_error()["success"] is False
    n = len(c.messages)
    c.send_raw(b'{"seq": 1, "type": "request"}')
    assert "command" in last_error()["message"]
    r = c.request("noSuchCommand")
    assert not r["success"] and "unknown command" in r["message"]
    r = c.request("setBreakpoints", source={"path": str(d.path)}, breakpoints=[{"line": "three"}])
    assert not r["success"] and "'line' must be an integer" in r["message"]
    r = c.request("setBreakpoints", breakpoints=[])
    assert not r["success"] and "source" in r["message"]
    r = c.request("setExceptionBreakpoints", filters="raised")
    assert not r["success"]
    r = c.request("setExceptionBreakpoints", filters=["everything"])
    assert not r["success"] and "unknown exception filter" in r["message"]
    r = c.request("stackTrace", threadId=1)
    assert not r["success"] and "no thread is stopped" in r["message"]
    r = c.request("attach", stopOnEntry="yes")
    assert not r["success"]
    d.bps(3)
    d.go()
    tid = d.stopped()["threadId"]
    for bad in [dict(variablesReference="x"), dict(), dict(variablesReference=987654)]:
        r = c.request("variables", **bad)
        assert not r["success"] and r["message"], bad
    r = c.request("scopes", frameId=424242)
    assert not r["success"] and "frameId" in r["message"]
    r = c.request("evaluate", frameId=True, expression="1")
    assert not r["success"]
    r = c.request("stackTrace", threadId=tid + 1)
    assert not r["success"] and "not stopped" in r["message"]
    d.bps()
    c.request("continue", threadId=tid)
    rc, out, err = d.finish()
    assert rc == 0 and out == "total 10\nouter 22\n", err


def test_listen_refuses_a_non_loopback_address_without_allow_remote(tmp_path):
    (tmp_path / "p.py").write_text("print(1)\n")
    r = subprocess.run([sys.executable, "-m", "sleuth", "--listen", "0.0.0.0:0", str(tmp_path / "p.py")],
                       capture_output=True, timeout=60, env=env_without_sleuth_autostart())
    assert r.returncode == 2 and b"--allow-remote" in r.stderr and r.stdout == b""
    r = subprocess.run([sys.executable, "-m", "sleuth", "--listen", "nonsense", str(tmp_path / "p.py")],
                       capture_output=True, timeout=60, env=env_without_sleuth_autostart())
    assert r.returncode == 2 and r.stderr.startswith(b"sleuth: bad address")


# --- the program is the same ---------------------------------------------------------


def test_output_with_a_client_continuing_equals_the_plain_run(tmp_path):
    src = PROG + textwrap.dedent("""\
        import threading
        res = []
        def worker(k):
            for j in range(50):
                res.append(add(k, j))
        ts = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        print(sum(res), len(res))
        try:
            {}["x"]
        except KeyError as e:
            print("caught", repr(e))
        sys.exit(3)
        """)
    plain_rc, plain_out = plain_run(tmp_path, src)
    d = Debuggee(tmp_path, src)
    d.bps(3, 20)
    d.c.request("setExceptionBreakpoints", filters=["uncaught"])
    d.go()
    stops = 0
    while True:
        ev = d.c._wait(lambda: [e for e in d.c.events
                                if e["event"] in ("stopped", "terminated")][stops:] or None,
                       "a stop or the end", None)[0]
        if ev["event"] == "terminated":
            break
        stops += 1
        tid = ev["body"]["threadId"]
        fid = d.top(tid)[0]["id"]
        d.c.request("evaluate", expression="sorted(globals())[:3]", frameId=fid, context="watch")
        d.c.request("continue", threadId=tid)
    rc, out, _ = d.finish()
    assert stops >= 5 + 150
    assert (rc, out) == (plain_rc, plain_out)


# --- --connect and the Python API ------------------------------------------------------


def test_connect_to_an_adapter_socket(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(PROG)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "sleuth", "--connect", "127.0.0.1:%d" % port, str(prog)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_without_sleuth_autostart())
    srv.settimeout(30)
    conn, _ = srv.accept()
    srv.close()
    c = DapClient(conn.makefile("rb"), conn.makefile("wb"), sock=conn)
    assert c.request("initialize", adapterID="t")["success"]
    assert c.request("launch", stopOnEntry=True)["success"]
    assert c.request("configurationDone")["success"]
    st = c.wait_event("stopped")["body"]
    assert st["reason"] == "entry"
    f = c.request("stackTrace", threadId=st["threadId"])["body"]["stackFrames"]
    assert f[0]["line"] == 1 and f[0]["source"]["path"] == str(prog)
    c.request("continue", threadId=st["threadId"])
    out, err = proc.communicate(timeout=30)
    c.close()
    assert proc.returncode == 0 and out == b"total 10\nouter 22\n", err


def test_listen_api_and_breakpoint_builtin(tmp_path):
    src = textwrap.dedent("""\
        import sys, sleuth
        host, port = sleuth.listen(0)
        sys.stderr.write("sleuth: listening on %s:%d\\n" % (host, port))
        sys.stderr.flush()
        sleuth.wait_for_client()
        x = 41
        breakpoint()
        print("x is", x)
        """)
    d = Debuggee(tmp_path, src, argv=[sys.executable, str(tmp_path / "prog.py")])
    d.go()
    st = d.stopped()
    tid = st["threadId"]
    f = d.top(tid)[0]
    assert f["source"]["path"] == str(d.path)
    d.c.request("setVariable", variablesReference=d.c.request("scopes", frameId=f["id"])["body"]["scopes"][0]["variablesReference"],
                name="x", value="42")
    d.c.request("continue", threadId=tid)
    rc, out, err = d.finish()
    assert rc == 0 and out == "x is 42\n", err


# --- a client that reads slowly ---------------------------------------------------

def test_program_end_while_an_answer_is_being_written_does_not_deadlock(tmp_path):
    """The reader thread's answer blocks in its write (the client is not
    reading) when the program ends and sends its last events: the program's
    thread waited for the write lock holding the GIL, the reader needed the GIL
    to finish its write, and the program never ended (dap-mode's
    dap-terminated-hook never ran: tests/test_readme.py's Emacs template, a
    program that ends right after configurationDone)."""
    path = tmp_path / "prog.py"
    path.write_text("import os, time\n"
                    "for _ in range(6000):\n"
                    "    if os.path.exists('go'):\n"
                    "        break\n"
                    "    time.sleep(0.01)\n"
                    "open('ended', 'w').close()\n")
    proc = subprocess.Popen([sys.executable, "-m", "sleuth", "--listen", "127.0.0.1:0",
                             "--wait-for-client", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=str(tmp_path),
                            env=env_without_sleuth_autostart())
    try:
        m = re.match(r"sleuth: listening on 127\.0\.0\.1:(\d+)$",
                     proc.stderr.readline().decode().strip())
        assert m
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", int(m.group(1))))
        s.settimeout(60)

        def send(seq, command, **args):
            body = json.dumps({"seq": seq, "type": "request", "command": command,
                               "arguments": args}).encode()
            s.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)

        send(1, "initialize", adapterID="test")
        send(2, "attach")
        send(3, "configurationDone")
        # An answer of many MB (200,000 unverified breakpoints): once its
        # first bytes arrive, the reader thread is in its write, holding the
        # write lock, and stays there while we do not read.
        send(4, "setBreakpoints", source={"path": str(path)},
             breakpoints=[{"line": n} for n in range(1000, 201000)])
        data = b""
        while b'"setBreakpoints"' not in data:
            chunk = s.recv(4096)
            assert chunk, data[-500:]
            data += chunk
        (tmp_path / "go").touch()   # the program ends and sends its last events
        deadline = time.monotonic() + 60
        while not (tmp_path / "ended").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / "ended").exists()
        time.sleep(0.5)             # the program's thread reaches its last events
        # Now read: the program ends (closing the connection, with a reset
        # when requests are left unread) instead of hanging.
        s.settimeout(60)
        try:
            while s.recv(1 << 20):
                pass
        except (ConnectionResetError, TimeoutError):
            pass
        s.close()
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        proc.wait()
