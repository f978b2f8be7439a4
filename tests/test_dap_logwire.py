"""The bytes of log point `output` events on the wire, exactly.

The log point's per-hit path writes its event straight into the JSON writer
(dap_stop.c, no dicts per hit): these frames were captured from the path
that built Python dicts, before that change, and must not change by a byte
(escaping of quotes, control characters, non-ASCII, lone surrogates, an
expression that raises, a __str__ that raises, {{ and }})."""
import json
import re
import socket
import subprocess
import sys
import textwrap

from dapclient import env_without_sleuth_autostart

PROG = textwrap.dedent("""\
    s = 'say "hi" \\\\ back'
    ctl = "a\\nb\\tc\\x01\\x7f\\r"
    uni = "\\u00e9\\u20ac\\U0001f600"
    lone = "\\ud800x\\udfff"
    class Bad:
        def __str__(self):
            raise ValueError('bad "str"\\n')
    bad = Bad()
    n = 41
    n = 42
    n = 43
    n = 44
    n = 45
    n = 46
    n = 47
    """)

# line -> logMessage
LOGS = {
    10: "{s}|{ctl}",
    11: "{uni} {lone}",
    12: "{{lit}} {n} }} {{ { no close",
    13: "{1/0}",
    14: "{bad}",
    15: "plain \u00fc text",
}

# What reached the client for each line, as the JSON text of "output" (the
# bytes between its quotes).
EXPECTED_OUTPUT = {
    10: rb'say \"hi\" \\ back|a\nb\tc\u0001\u007f\r\n',
    11: "\u00e9\u20ac\U0001f600".encode() + rb' \\ud800x\\udfff\n',
    12: rb'{lit} 43 } { { no close\n',
    13: rb'division by zero\n',
    14: rb'bad \"str\"\n\n',
    15: "plain \u00fc text".encode() + rb'\n',
}


def frame(body):
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_frames(data):
    out = []
    while data:
        m = re.match(rb"Content-Length: (\d+)\r\n\r\n", data)
        assert m, data[:200]
        n = int(m.group(1))
        out.append(data[:m.end() + n])
        data = data[m.end() + n:]
    return out


def test_log_point_output_events_are_byte_for_byte(tmp_path):
    path = tmp_path / "pr\u00f6g.py"
    path.write_text(PROG)
    proc = subprocess.Popen([sys.executable, "-m", "sleuth", "--listen", "127.0.0.1:0",
                             "--wait-for-client", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(tmp_path),
                            env=env_without_sleuth_autostart())
    line = proc.stderr.readline().decode()
    m = re.match(r"sleuth: listening on 127\.0\.0\.1:(\d+)$", line.strip())
    assert m, line
    sock = socket.create_connection(("127.0.0.1", int(m.group(1))), timeout=60)
    reqs = [("initialize", {"adapterID": "test", "linesStartAt1": True}),
            ("attach", {}),
            ("setBreakpoints", {"source": {"path": str(path)},
                                "breakpoints": [{"line": n, "logMessage": t} for n, t in LOGS.items()]}),
            ("configurationDone", {})]
    for seq, (cmd, args) in enumerate(reqs, 1):
        sock.sendall(frame(json.dumps({"seq": seq, "type": "request", "command": cmd,
                                       "arguments": args}).encode()))
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    assert proc.wait(timeout=60) == 0
    frames = read_frames(data)
    msgs = [json.loads(f.split(b"\r\n\r\n", 1)[1]) for f in frames]
    assert all(m.get("success", True) for m in msgs if m["type"] == "response"), msgs
    got = [f for f, m in zip(frames, msgs) if m["type"] == "event" and m["event"] == "output"]
    seqs = [m["seq"] for m in msgs if m["type"] == "event" and m["event"] == "output"]
    path_json = str(path).encode()
    assert b'"' not in path_json and b"\\" not in path_json
    want = [frame(b'{"seq": %d, "type":"event","event":"output","body":{"category":"console","output":"'
                  % seq + EXPECTED_OUTPUT[n] + b'","source":{"path":"' + path_json
                  + b'"},"line":%d}}' % n)
            for seq, n in zip(seqs, sorted(LOGS))]
    assert len(got) == len(LOGS) and got == want
