"""`sleuth dap`, the adapter: what it answers itself, how it launches or
attaches to a debuggee and relays between it and the client, and how it
treats bad input.

The relay is tested against a small fake debuggee (FAKE below, a Python
script speaking just enough DAP), so these tests pin down the adapter's own
behaviour whatever the real debuggee server does; the `python` launch key
points the adapter at it (`python: [sys.executable, fake.py]` makes the
adapter run `python fake.py -m sleuth --connect 127.0.0.1:PORT program args`).
"""
import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import run_python
from dapclient import DapClient, free_port, wait_listening, have_debuggee_server

FAKE = r'''
import json, os, socket, sys, time

argv = sys.argv[1:]
if "--connect" in argv:
    host, port = argv[argv.index("--connect") + 1].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)))
    prog = argv[argv.index("--connect") + 2:]
else:                                  # --listen PORT: wait for one client
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", int(argv[argv.index("--listen") + 1])))
    lsock.listen(1)
    print("fake listening", flush=True)
    sock, _ = lsock.accept()
    prog = argv[argv.index("--listen") + 2:]
rf, wf = sock.makefile("rb"), sock.makefile("wb")
seq = 0
received = []

def send(msg):
    global seq
    seq += 1
    msg["seq"] = seq
    body = json.dumps(msg).encode()
    wf.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    wf.flush()

def respond(req, body=None, success=True):
    send({"type": "response", "request_seq": req["seq"], "command": req["command"],
          "success": success, "body": body or {}})

def read():
    n = None
    while True:
        line = rf.readline()
        if not line:
            return None
        if line == b"\r\n":
            break
        k, _, v = line.decode().partition(":")
        if k.lower() == "content-length":
            n = int(v)
    return json.loads(rf.read(n))

exit_code = int(next((a[5:] for a in prog if a.startswith("exit=")), "0"))
while True:
    msg = read()
    if msg is None:
        break
    received.append(msg)
    if msg["type"] == "response":
        send({"type": "event", "event": "output",
              "body": {"category": "console", "output": "reverse answered: %s\n" % json.dumps(msg["body"])}})
        continue
    cmd = msg["command"]
    if cmd == "initialize":
        respond(msg, {"fakeCapability": True})
    elif cmd in ("launch", "attach"):
        respond(msg)
        send({"type": "event", "event": "initialized"})
    elif cmd == "configurationDone":
        respond(msg)
        print("hello from the program", flush=True)
        print("oops on stderr", file=sys.stderr, flush=True)
        send({"type": "event", "event": "stopped", "body": {"reason": "breakpoint", "threadId": 1}})
    elif cmd == "evaluate":
        if msg["arguments"]["expression"] == "received":
            respond(msg, {"result": json.dumps([(m["type"], m.get("command"), m.get("seq"), m.get("arguments")) for m in received]), "variablesReference": 0})
        elif msg["arguments"]["expression"] == "argv":
            respond(msg, {"result": json.dumps(sys.argv), "variablesReference": 0})
        else:
            respond(msg, {"result": "cwd=%s env=%s" % (os.getcwd(), os.environ.get("FAKE_ENV")), "variablesReference": 0})
    elif cmd == "reverse":
        respond(msg)
        send({"type": "request", "command": "fakeReverse", "arguments": {"x": 1}})
    elif cmd == "continue":
        respond(msg, {"allThreadsContinued": True})
        send({"type": "event", "event": "exited", "body": {"exitCode": 99}})
        send({"type": "event", "event": "terminated"})
        sock.close()
        sys.exit(exit_code)
    elif cmd == "disconnect":
        respond(msg)
        if "linger" in prog:
            time.sleep(120)
        sys.exit(exit_code)
    else:
        respond(msg, success=False)
'''


@pytest.fixture
def fake(tmp_path):
    p = tmp_path / "fake_debuggee.py"
    p.write_text(FAKE)
    return str(p)


@pytest.fixture
def client():
    clients = []

    def make(*args):
        c = DapClient.spawn(args)
        clients.append(c)
        return c
    yield make
    for c in clients:
        c.close()


def init(c, **extra):
    r = c.request("initialize", clientID="test", adapterID="sleuth", linesStartAt1=True,
                  columnsStartAt1=True, pathFormat="path", **extra)
    assert r["success"], r
    return r


def launch(c, fake, *prog, **kw):
    seq = c.request_async("launch", python=[sys.executable, fake], program="prog.py",
                          args=list(prog), **kw)
    return seq


def seqs_increase(c):
    seqs = [m["seq"] for m in c.messages if "seq" in m]
    assert seqs == list(range(1, len(seqs) + 1)), seqs


# --- what the adapter answers itself ----------------------------------------

def test_initialize_answered_by_the_adapter(client):
    c = client()
    r = init(c)
    assert r["command"] == "initialize" and r["request_seq"] == 1
    assert r["body"]["supportsConfigurationDoneRequest"] is True
    assert [f["filter"] for f in r["body"]["exceptionBreakpointFilters"]] == ["raised", "uncaught", "userUnhandled"]
    r = c.request("initialize")
    assert not r["success"] and r["message"] == "initialize: already initialized"
    r = c.request("threads")
    assert not r["success"] and r["message"] == "threads: launch or attach first"
    r = c.request("disconnect")
    assert r["success"]
    assert c.close() == 0
    seqs_increase(c)


@pytest.mark.parametrize("args, message", [
    ({}, "launch: give 'program' (a script) or 'module', not neither"),
    ({"program": "a.py", "module": "m"}, "launch: give 'program' (a script) or 'module', not both"),
    ({"program": 3}, "launch: 'program' must be a string, not int"),
    ({"program": "a.py", "args": "x y"}, "launch: 'args' must be a list of strings"),
    ({"program": "a.py", "args": [1]}, "launch: 'args' must be a list of strings"),
    ({"program": "a.py", "stopOnEntry": "yes"}, "launch: 'stopOnEntry' must be true or false, not str"),
    ({"program": "a.py", "env": {"A": 1}}, "launch: 'env' must be an object of strings (null removes a variable)"),
    ({"program": "a.py", "python": 5}, "launch: 'python' must be a path or a list of strings (path, options)"),
    ({"program": "a.py", "console": "tty"}, "launch: 'console' must be internalConsole, integratedTerminal or externalTerminal"),
    ({"program": "a.py", "python": "/nonexistent/python"}, "launch: cannot start the program: [Errno 2] No such file or directory: '/nonexistent/python'"),
    ({"program": "a.py", "cwd": "/nonexistent/dir", "python": sys.executable}, "launch: cannot start the program: [Errno 2] No such file or directory: '/nonexistent/dir'"),
])
def test_launch_arguments_are_checked(client, args, message):
    c = client()
    init(c)
    r = c.request("launch", **args)
    assert not r["success"] and r["message"] == message, r
    assert c.request("disconnect")["success"]


def test_attach_arguments_are_checked(client):
    c = client()
    init(c)
    r = c.request("attach", connect={"host": "127.0.0.1"})
    assert not r["success"] and r["message"].startswith("attach: give 'connect': {\"host\": ..., \"port\": N}")
    r = c.request("attach", connect={"host": 5, "port": 1})
    assert r["message"] == "attach: 'host' must be a string"
    port = free_port()
    r = c.request("attach", connect={"host": "127.0.0.1", "port": port})
    assert not r["success"] and r["message"] == f"attach: cannot connect to 127.0.0.1:{port}: Connection refused"
    assert c.request("disconnect")["success"]


def test_a_program_that_exits_before_connecting_fails_the_launch(client, tmp_path):
    c = client()
    init(c)
    r = c.request("launch", python=[sys.executable, "-c", "import sys; print('bye'); sys.exit(3)"],
                  program="x.py")
    assert not r["success"]
    assert r["message"] == ("launch: the program exited with status 3 before the debugger "
                            "connected (its output is above)")
    assert "bye\n" in c.output["stdout"]
    assert c.wait_event("exited")["body"] == {"exitCode": 3}
    c.wait_event("terminated")
    assert c.request("disconnect")["success"]
    assert c.close() == 0


# --- the relay -------------------------------------------------------------

def test_launch_relays_both_ways(client, fake, tmp_path):
    c = client()
    init(c)
    seq = launch(c, fake, "exit=7", "two words", cwd=str(tmp_path), env={"FAKE_ENV": "set"})
    proc = c.wait_event("process")["body"]
    assert proc["name"] == "prog.py" and proc["startMethod"] == "launch"
    assert proc["isLocalProcess"] is True and proc["systemProcessId"] > 0
    assert c.response(seq)["success"]
    c.wait_event("initialized")
    assert c.request("configurationDone")["success"]
    stopped = c.wait_event("stopped")
    assert stopped["body"] == {"reason": "breakpoint", "threadId": 1}
    c.wait_output("hello from the program\n", "stdout")
    c.wait_output("oops on stderr\n", "stderr")

    # the debuggee got the client's own initialize, then the launch
    got = json.loads(c.request("evaluate", expression="received")["body"]["result"])
    assert [g[:3] for g in got[:3]] == [["request", "initialize", 1], ["request", "launch", 2],
                                        ["request", "configurationDone", 3]]
    assert got[0][3]["clientID"] == "test"
    assert got[1][3]["args"] == ["exit=7", "two words"]
    argv = json.loads(c.request("evaluate", expression="argv")["body"]["result"])
    assert argv[1:4] == ["-m", "sleuth", "--connect"]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", argv[4]) and argv[5:] == ["prog.py", "exit=7", "two words"]
    r = c.request("evaluate", expression="where")["body"]["result"]
    assert r == f"cwd={tmp_path} env=set"
    # one initialize response only: the debuggee's was swallowed
    assert sum(1 for m in c.messages if m.get("command") == "initialize") == 1

    # a reverse request from the debuggee: its seq is renumbered, the answer mapped back
    c.request("reverse")
    rev = c.wait_reverse_request("fakeReverse")
    assert rev["arguments"] == {"x": 1}
    c.respond(rev, {"answer": 42})
    c.wait_output('reverse answered: {"answer": 42}\n', "console")

    # the end: exit status from the process, not the debuggee's own exited (99)
    assert c.request("continue", threadId=1)["success"]
    ex = c.wait_event("exited")
    assert ex["body"] == {"exitCode": 7}
    c.wait_event("terminated")
    assert [e["event"] for e in c.events].count("exited") == 1
    assert c.request("disconnect")["success"]
    assert c.close() == 0
    seqs_increase(c)


def test_attach_relays_and_passes_the_programs_own_end(client, fake):
    port = free_port()
    prog = subprocess.Popen([sys.executable, fake, "--listen", str(port), "prog.py"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert prog.stdout.readline() == "fake listening\n"
        c = client()
        init(c)
        r = c.request("attach", connect={"host": "127.0.0.1", "port": port})
        assert r["success"], r
        c.wait_event("initialized")
        assert c.request("configurationDone")["success"]
        c.wait_event("stopped")
        assert c.request("continue", threadId=1)["success"]
        assert c.wait_event("exited")["body"] == {"exitCode": 99}    # the debuggee's own
        c.wait_event("terminated")
        assert c.request("disconnect")["success"]
        assert c.close() == 0
        assert prog.wait(10) == 0
    finally:
        prog.kill()
        prog.wait()


def test_a_client_that_vanishes_ends_the_launched_program(client, fake):
    c = client()
    init(c)
    seq = launch(c, fake, "linger")
    pid = c.wait_event("process")["body"]["systemProcessId"]
    assert c.response(seq)["success"]
    assert c.close() == 0           # no disconnect: stdin just closes
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_disconnect_ends_a_program_that_lingers(client, fake):
    c = client()
    init(c)
    seq = launch(c, fake, "linger", "exit=5")
    pid = c.wait_event("process")["body"]["systemProcessId"]
    assert c.response(seq)["success"]
    r = c.request("disconnect", terminateDebuggee=True)
    assert r["success"] and r["request_seq"] > 0
    assert c.close() == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_run_in_terminal_when_the_client_supports_it(client, fake, tmp_path):
    c = client()
    init(c, supportsRunInTerminalRequest=True)
    seq = launch(c, fake, "exit=4", console="integratedTerminal", cwd=str(tmp_path),
                 env={"FAKE_ENV": "term"})
    rit = c.wait_reverse_request("runInTerminal")
    a = rit["arguments"]
    assert a["kind"] == "integrated" and a["cwd"] == str(tmp_path) and a["env"] == {"FAKE_ENV": "term"}
    assert a["args"][:4] == [sys.executable, fake, "-m", "sleuth"]
    # play the editor's terminal
    term = subprocess.Popen(a["args"], cwd=a["cwd"], env=dict(os.environ, **a["env"]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    c.respond(rit, {"processId": term.pid})
    assert c.response(seq)["success"]
    c.wait_event("initialized")
    assert c.request("evaluate", expression="where")["body"]["result"] == f"cwd={tmp_path} env=term"
    assert c.request("configurationDone")["success"]
    c.wait_event("stopped")
    assert "stdout" not in c.output         # the terminal has it
    c.request("continue", threadId=1)
    # not our child: the program's own exited/terminated are relayed
    assert c.wait_event("exited")["body"] == {"exitCode": 99}
    c.wait_event("terminated")
    assert term.wait(10) == 4
    assert "hello from the program" in term.stdout.read().decode()
    assert c.request("disconnect")["success"]


def test_run_in_terminal_refused_by_the_client(client, fake):
    c = client()
    init(c, supportsRunInTerminalRequest=True)
    seq = launch(c, fake, console="externalTerminal")
    rit = c.wait_reverse_request("runInTerminal")
    assert rit["arguments"]["kind"] == "external"
    c.respond(rit, success=False, message="no terminal here")
    r = c.response(seq)
    assert not r["success"]
    assert r["message"] == "launch: the client could not run the terminal: no terminal here"
    assert c.request("disconnect")["success"]


def test_terminal_console_without_client_support_falls_back(client, fake):
    c = client()
    init(c)
    seq = launch(c, fake, console="integratedTerminal")
    assert c.response(seq)["success"]
    assert "cannot run a terminal (no supportsRunInTerminalRequest)" in c.output["console"]
    c.wait_event("initialized")
    c.request("configurationDone")
    c.wait_output("hello from the program\n")
    c.request("continue", threadId=1)
    c.wait_event("terminated")
    assert c.request("disconnect")["success"]


# --- bad input ----------------------------------------------------------------

def errors_after(c, n):
    return [m for m in c.messages[n:] if m.get("type") == "response" and not m["success"]]


def test_malformed_messages_get_an_error_and_the_adapter_goes_on(client):
    c = client()
    cases = [
        (b"{not json", None, "sleuth dap: invalid JSON: expected a string key in an object at line 1 column 2 (byte 1)"),
        (b"[1, 2]", None, "sleuth dap: a message must be a JSON object, not list"),
        (b'{"type": "request", "command": "initialize"}', None, "sleuth dap: a message needs an integer 'seq'"),
        (b'{"seq": 1, "command": "x"}', None, "sleuth dap: a message needs a 'type' (request, response or event)"),
        (b'{"seq": 1, "type": "request"}', None, "sleuth dap: a request needs a string 'command'"),
        (b'{"seq": 1, "type": "request", "command": 7}', None, "sleuth dap: a request needs a string 'command'"),
        (b'{"seq": 1, "type": "event", "event": "x"}', None, "sleuth dap: a client sends requests and responses, not 'event'"),
        (b'{"seq": 1, "type": "request", "command": "launch", "arguments": [1]}', None, "launch: 'arguments' must be an object"),
        (b'{"seq": 1, "type": "request", "command": "launch", "arguments": {"program": "a.py", "python": []}}', None,
         "launch: 'python' must be a path or a list of strings (path, options)"),
        (b"{}", b"Content-Length: x\r\n\r\n", "sleuth dap: bad message framing: Content-Length is not a number"),
        (b"", b"Content-Type: a\r\n\r\n", "sleuth dap: bad message framing: header without Content-Length"),
        (b"", b"X-Pad: " + b"p" * 5000 + b"\r\n\r\n", "sleuth dap: bad message framing: header longer than 4096 bytes"),
        (b'"\xff"', None, "sleuth dap: invalid JSON: invalid UTF-8 in a string at line 1 column 1"),
    ]
    for body, header, message in cases:
        n = len(c.messages)
        c.send_raw(body, header)
        c._wait(lambda: errors_after(c, n), f"an error for {body[:40]!r}", None)
        err = errors_after(c, n)[0]
        assert err["message"].startswith(message), (body, err)
        assert isinstance(err["command"], str) and isinstance(err["request_seq"], int)
    init(c)
    assert c.request("disconnect")["success"]
    assert c.close() == 0
    seqs_increase(c)


def test_an_oversized_body_is_skipped(client):
    c = client()
    big = 16 * 1024 * 1024 + 10
    c.send_raw(b" " * big, b"Content-Length: %d\r\n\r\n" % big)
    c._wait(lambda: errors_after(c, 0), "an error", None)
    assert errors_after(c, 0)[0]["message"] == (
        f"sleuth dap: bad message framing: body of {big} bytes is over the 16777216-byte limit (skipped)")
    init(c)
    assert c.request("disconnect")["success"]


def fuzz_messages(rng):
    good = [
        {"type": "request", "command": "initialize", "arguments": {"adapterID": "x"}},
        {"type": "request", "command": "launch", "arguments": {"program": 1}},
        {"type": "request", "command": "attach", "arguments": {"connect": {"port": "x"}}},
        {"type": "request", "command": "setBreakpoints", "arguments": {"lines": [1]}},
        {"type": "response", "request_seq": 5, "success": True},
        {"type": "request", "command": "evaluate", "arguments": None},
    ]
    for _ in range(120):
        m = dict(rng.choice(good), seq=rng.randrange(-3, 1000))
        body = bytearray(json.dumps(m).encode())
        kind = rng.randrange(6)
        if kind == 0:               # truncated body, with its true length
            body = body[:rng.randrange(len(body))]
        elif kind == 1:             # random bytes changed
            for _ in range(rng.randrange(1, 4)):
                body[rng.randrange(len(body))] = rng.randrange(256)
        elif kind == 2:             # random bytes
            body = bytearray(rng.randrange(256) for _ in range(rng.randrange(60)))
        elif kind == 3:             # a wrong type somewhere
            m[rng.choice(["seq", "type", "command", "arguments"])] = rng.choice([None, 1, [], "", {}])
            body = bytearray(json.dumps(m).encode())
        if rng.random() < 0.1:      # a wrong Content-Length (resynced on the next header)
            yield b"Content-Length: %d\r\n\r\n" % max(0, len(body) - rng.randrange(1, 5)) + bytes(body)
        else:
            yield b"Content-Length: %d\r\n\r\n" % len(body) + bytes(body)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fuzzed_messages_never_stop_the_adapter(client, seed):
    c = client()
    rng = random.Random(seed)
    for data in fuzz_messages(rng):
        c.send_raw(data, b"")
    # still answering, with whole messages
    c.seq = 10_000          # above every fuzzed seq, so the answer is ours
    r = c.request("threads", _timeout=30)
    assert r["command"] == "threads" and not r["success"]
    for m in c.messages:
        assert m["type"] in ("response", "event"), m
        if m["type"] == "response" and not m["success"]:
            assert "\n" not in m["message"]
    c.request("disconnect")
    assert c.close() == 0
    seqs_increase(c)
    assert c.stderr == ""


# --- the command line ---------------------------------------------------------

def test_help():
    r = run_python(["-m", "sleuth", "dap", "--help"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: sleuth dap [-h] [--listen [HOST:]PORT] [--allow-remote]\n")
    for opt in ("--listen", "--allow-remote", "-h, --help"):
        assert re.search(rf"^  {opt}\b", r.stdout, re.M), opt
    assert "\nexamples:\n  sleuth dap --listen 5678 " in r.stdout
    assert "\n  sleuth dap    " in r.stdout


@pytest.mark.parametrize("args, err", [
    (["--bogus"], "sleuth dap: error: unrecognized argument: --bogus"),
    (["--listen"], "sleuth dap: error: --listen needs [HOST:]PORT"),
    (["--listen", "99999"], "sleuth dap: error: --listen: bad port in '99999' (0 to 65535)"),
    (["--listen", "a:b:c"], "sleuth dap: error: --listen: expected [HOST:]PORT, got 'a:b:c'"),
    (["--allow-remote"], "sleuth dap: error: --allow-remote needs --listen"),
    (["--listen", "0.0.0.0:0"], "sleuth dap: --listen 0.0.0.0 is not a loopback address: a connected "
                                "client can run any code as you; add --allow-remote to allow it"),
])
def test_bad_command_lines(args, err):
    r = run_python(["-m", "sleuth", "dap", *args])
    assert r.returncode == 2
    assert err in r.stderr, r.stderr


def start_listening(*args):
    proc = subprocess.Popen([sys.executable, "-m", "sleuth", "dap", "--listen", *args],
                            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    return proc, line


def test_listen_serves_clients_one_after_another(fake):
    proc, line = start_listening("0")
    try:
        m = re.fullmatch(r"sleuth dap: listening on 127\.0\.0\.1:(\d+)\n", line)
        assert m, line
        port = int(m.group(1))
        for _ in range(2):
            c = DapClient.connect("127.0.0.1", port)
            init(c)
            seq = launch(c, fake, "exit=2")
            assert c.response(seq)["success"]
            c.wait_event("initialized")
            c.request("configurationDone")
            c.wait_output("hello from the program\n")
            c.request("continue", threadId=1)
            assert c.wait_event("exited")["body"] == {"exitCode": 2}
            assert c.request("disconnect")["success"]
            c.wait_closed()
            c.close()
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) != 0


def test_listen_on_another_address_warns_with_allow_remote():
    proc, line = start_listening("0.0.0.0:0", "--allow-remote")
    try:
        assert line.startswith("sleuth dap: warning: listening on 0.0.0.0, not loopback: anyone "
                               "who can connect to it can run any code as you\n")
        assert re.fullmatch(r"sleuth dap: listening on 0\.0\.0\.0:\d+\n", proc.stderr.readline())
    finally:
        proc.kill()
        proc.wait()


# --- end to end, with sleuth's own debuggee server ---------------------------------

need_server = pytest.mark.skipif(not have_debuggee_server(),
                                 reason="this build has no debuggee server yet (sleuth.listen)")


def expected_scenario():
    import dapscenario
    brk, step = dapscenario.marker_line("BREAK add"), dapscenario.marker_line("STEP add")
    return {
        "stop1": ("breakpoint", "add", brk),
        "frames1": [("add", brk), ("<module>", brk + 7)],
        "locals1": {"a": "2", "b": "3"},
        "eval1": ["20", "'SLEUTH'", "[1, 2]", "error: NameError: name 'undefined_name' is not defined"],
        "stop2": ("step", "add", step),
        "eval2": "5",
    }


@need_server
def test_end_to_end_launch(client):
    import dapscenario
    c = client()
    out = dapscenario.breakpoint_scenario(c, program=dapscenario.PROGRAM,
                                          console="internalConsole")
    exp = expected_scenario()
    for k, v in exp.items():
        assert out[k] == v, k
    assert out["stdout"] == "before\nresult 5\n"
    assert out["exit"] == 3
    assert c.close() == 0
    seqs_increase(c)
    # one `process` event, the adapter's (the program it launched): the
    # debuggee's own (startMethod attach) used to follow it
    procs = [m["body"] for m in c.messages if m.get("event") == "process"]
    assert len(procs) == 1 and procs[0]["startMethod"] == "launch", procs


@contextlib.contextmanager
def listening_scenario():
    """(process, port) of the scenario program under `sleuth --listen
    --wait-for-client`, listening; killed at the end."""
    import dapscenario
    port = free_port()
    prog = subprocess.Popen([sys.executable, "-m", "sleuth", "--listen", f"127.0.0.1:{port}",
                             "--wait-for-client", dapscenario.PROGRAM],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_listening(port)
        yield prog, port
    finally:
        prog.kill()
        prog.wait()


@need_server
def test_end_to_end_attach_through_the_adapter(client):
    import dapscenario
    with listening_scenario() as (prog, port):
        c = client()
        out = dapscenario.breakpoint_scenario(c, "attach",
                                              connect={"host": "127.0.0.1", "port": port})
        for k, v in expected_scenario().items():
            assert out[k] == v, k
        assert prog.wait(30) == 3
        assert prog.stdout.read() == "before\nresult 5\n"
        assert c.close() == 0


# --- restart (launch) ---------------------------------------------------------------

RESTART_PROG = """\
import sys
def work(tag):
    x = tag * 2
    return x
print("run", sys.argv[1], flush=True)
work(sys.argv[1])
sys.exit(7)
"""


@need_server
def test_restart_runs_the_program_again_with_the_breakpoints(client, tmp_path):
    prog = tmp_path / "again.py"
    prog.write_text(RESTART_PROG)
    c = client()
    init_r = c.request("initialize", adapterID="sleuth", linesStartAt1=True)
    assert init_r["body"]["supportsRestartRequest"] is True
    config = {"program": str(prog), "args": ["first"], "console": "internalConsole"}
    seq = c.request_async("launch", **config)
    c.wait_event("initialized", timeout=60)
    src = {"path": str(prog)}
    # set twice: the breakpoint's id is not 1, as the new program's would be
    assert c.request("setBreakpoints", source=src, breakpoints=[{"line": 4}])["success"]
    r = c.request("setBreakpoints", source=src, breakpoints=[{"line": 3}])
    bid = r["body"]["breakpoints"][0]["id"]
    assert bid > 1 and r["body"]["breakpoints"][0]["verified"]
    assert c.request("setExceptionBreakpoints", filters=[])["success"]
    assert c.request("configurationDone")["success"]
    assert c.response(seq, 60)["success"]
    pid1 = c.wait_event("process")["body"]["systemProcessId"]
    st = c.wait_event("stopped", timeout=60)
    assert st["body"]["hitBreakpointIds"] == [bid]
    c.wait_output("run first\n")

    def restart_and_stop(**kw):
        n = len(c.events)
        r = c.request("restart", _timeout=60, **kw)
        assert r["success"], r
        pid = c.wait_event("process", after=n, timeout=60)["body"]["systemProcessId"]
        st = c.wait_event("stopped", after=n, timeout=60)
        # the client's id, though the new program numbered it 1
        assert st["body"]["reason"] == "breakpoint" and st["body"]["hitBreakpointIds"] == [bid]
        changed = [e["body"] for e in c.events[n:] if e["event"] == "breakpoint"]
        assert changed and changed[0]["reason"] == "changed"
        assert changed[0]["breakpoint"]["id"] == bid and changed[0]["breakpoint"]["verified"]
        # the first program's end is not the session's end
        assert not [e for e in c.events[n:] if e["event"] in ("exited", "terminated")]
        tid = st["body"]["threadId"]
        top = c.request("stackTrace", threadId=tid)["body"]["stackFrames"][0]
        assert top["line"] == 3
        arg = c.request("evaluate", expression="sys.argv[1]", frameId=top["id"])["body"]["result"]
        return pid, tid, arg

    # arguments.arguments: the new launch configuration
    pid2, tid, arg = restart_and_stop(arguments=dict(config, args=["second"]))
    assert arg == "'second'" and pid2 != pid1
    with pytest.raises(ProcessLookupError):
        os.kill(pid1, 0)
    c.wait_output("run second\n")
    # without arguments: the latest configuration again
    pid3, tid, arg = restart_and_stop()
    assert arg == "'second'" and pid3 != pid2
    n = len(c.events)
    assert c.request("continue", threadId=tid)["success"]
    c.wait_event("terminated", after=n, timeout=60)
    ends = [e for e in c.events if e["event"] in ("exited", "terminated")]
    assert [e["event"] for e in ends] == ["exited", "terminated"]
    assert ends[0]["body"]["exitCode"] == 7
    assert c.output["stdout"].count("run second\n") == 2
    disconnect_seq = c.request_async("disconnect")
    c.response(disconnect_seq)
    seqs_increase(c)


@need_server
def test_restart_of_an_attached_program_is_refused(client):
    import dapscenario
    with listening_scenario() as (prog, port):
        c = client()
        seq, _ = dapscenario.start(c, "attach", connect={"host": "127.0.0.1", "port": port})
        r = c.request("restart")
        assert not r["success"] and "attach" in r["message"] and "disconnect" in r["message"]
        dapscenario.configure(c, seq)
        assert prog.wait(30) == 3
