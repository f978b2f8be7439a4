"""How often an idle debuggee takes the GIL with a client attached.

    python bench/dap_idle_gil.py [SECONDS]      (needs gdb)

A program that sleeps runs under `python -m sleuth --listen`; a client
attaches and stays silent; gdb counts calls of PyEval_RestoreThread (a
thread taking the GIL back) for SECONDS (plus the ~3 s gdb takes to attach).
docs/dap.md has the figures.
"""
import json, os, re, socket, subprocess, sys, tempfile, time, signal
d = tempfile.mkdtemp()
p = os.path.join(d, "idle_prog.py"); open(p, "w").write("import time\nwhile True:\n    time.sleep(3600)\n")
proc = subprocess.Popen([sys.executable, "-m", "sleuth", "--listen", "127.0.0.1:0", "--wait-for-client", p],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
port = int(re.search(rb":(\d+)", proc.stderr.readline()).group(1))
s = socket.create_connection(("127.0.0.1", port))
seq = 0
for cmd in ["initialize", "attach", "configurationDone"]:
    seq += 1
    b = json.dumps({"seq": seq, "type": "request", "command": cmd, "arguments": {}}).encode()
    s.sendall(b"Content-Length: %d\r\n\r\n" % len(b) + b)
time.sleep(1)
secs = float(sys.argv[1]) if len(sys.argv) > 1 else 10
g = subprocess.Popen(["gdb", "-q", "-batch", "-p", str(proc.pid), "-ex", "break PyEval_RestoreThread",
                      "-ex", "ignore 1 100000000", "-ex", "continue", "-ex", "info breakpoints"],
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
time.sleep(secs + 3)   # gdb attach takes a moment
os.killpg(g.pid, signal.SIGINT)
out = g.communicate(timeout=60)[0].decode()
m = re.search(r"already hit (\d+) time", out)
print("python %s: PyEval_RestoreThread called %s times in ~%.0f s idle" % (sys.version.split()[0], m.group(1) if m else "0 (no hits)", secs))
if not m: print(out[-1500:])
proc.kill(); proc.wait()
