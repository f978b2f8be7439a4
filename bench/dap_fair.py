"""How long a request waits while a log point floods the client with output.

    python bench/dap_fair.py [REQUESTS [PAUSE]]     (RCVBUF=8192 in the environment:
                                                    the client's receive buffer)

A program runs `n += 1` in a loop under `python -m sleuth --listen` with a
log point `{n}` on that line; a client on a plain socket reads up to 64 KiB at a
time with PAUSE seconds between reads (0: as fast as it can) and sends
`threads` REQUESTS times, one after another. Printed: the answer's wait
(median, 90th percentile, max) and how many output events came between each
request and its answer (median, max). docs/dap.md has the figures.
"""
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SRC = "n = 0\nwhile True:\n    n += 1\n"


def main(nreq=50, pause=0.0):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "hot.py")
        with open(path, "w") as f:
            f.write(SRC)
        proc = subprocess.Popen([sys.executable, "-m", "sleuth", "--listen", "127.0.0.1:0",
                                 "--wait-for-client", path],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        port = int(re.search(rb":(\d+)", proc.stderr.readline()).group(1))
        s = socket.socket()
        rcv = int(os.environ.get("RCVBUF", "0"))
        if rcv:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcv)
        s.connect(("127.0.0.1", port))
        buf = bytearray()
        seq = [0]

        def send(cmd, **a):
            seq[0] += 1
            b = json.dumps({"seq": seq[0], "type": "request", "command": cmd,
                            "arguments": a}).encode()
            s.sendall(b"Content-Length: %d\r\n\r\n" % len(b) + b)
            return seq[0]

        def messages():
            while True:
                i = buf.find(b"\r\n\r\n")
                if i >= 0:
                    n = int(re.search(rb"Content-Length: (\d+)", bytes(buf[:i])).group(1))
                    if len(buf) >= i + 4 + n:
                        body = bytes(buf[i + 4:i + 4 + n])
                        del buf[:i + 4 + n]
                        yield json.loads(body)
                        continue
                chunk = s.recv(65536)
                if not chunk:
                    return
                buf.extend(chunk)
                if pause:
                    time.sleep(pause)

        it = messages()

        def until_response(rs):
            outs = 0
            for m in it:
                if m["type"] == "response" and m["request_seq"] == rs:
                    return outs, m
                if m.get("event") == "output":
                    outs += 1
            raise SystemExit("the connection closed")

        until_response(send("initialize", adapterID="bench"))
        until_response(send("attach"))
        until_response(send("setBreakpoints", source={"path": path},
                            breakpoints=[{"line": 3, "logMessage": "{n}"}]))
        until_response(send("configurationDone"))
        for m in it:
            if m.get("event") == "output":
                break
        waits, between = [], []
        for _ in range(nreq):
            t = time.perf_counter()
            o, m = until_response(send("threads"))
            waits.append(time.perf_counter() - t)
            between.append(o)
        proc.kill()
        proc.wait()
        s.close()
    waits.sort()
    between.sort()
    print("python %s, receive buffer %s, pause %s s: threads answered in %.2f ms median, "
          "%.2f ms p90, %.2f ms max; output events before the answer: %d median, %d max"
          % (sys.version.split()[0], rcv or "default", pause, 1000 * statistics.median(waits),
             1000 * waits[int(.9 * len(waits))], 1000 * waits[-1], statistics.median(between),
             between[-1]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50,
         float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)
