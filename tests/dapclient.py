"""A small Debug Adapter Protocol client for the tests.

    c = DapClient.spawn()                     # `python -m sleuth dap` on pipes
    c = DapClient.connect("127.0.0.1", port)  # or a TCP server (`--listen`)
    r = c.request("initialize", adapterID="sleuth", linesStartAt1=True)
    assert r["success"], r["message"]
    c.wait_event("initialized")
    c.output["stdout"]                        # text of `output` events, by category
    c.close()

A reader thread parses every incoming message: responses are matched to
requests by `request_seq`, events and reverse requests (`runInTerminal`) are
queued in arrival order. Every wait has a timeout and raises TimeoutError
naming what did not come, with the last messages seen, so a hung adapter
fails a test instead of hanging it.
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time

DEFAULT_TIMEOUT = 20.0


class DapClient:
    def __init__(self, rfile, wfile, proc=None, sock=None):
        self._r, self._w = rfile, wfile
        self.proc, self.sock = proc, sock
        self.seq = 0
        self.timeout = DEFAULT_TIMEOUT
        self._cv = threading.Condition()
        self.responses = {}             # request_seq -> response
        self.events = []                # every event, in order
        self.reverse_requests = []      # requests from the adapter
        self.messages = []              # everything received, in order
        self.output = {}                # category -> text
        self.closed = False             # the adapter closed its side
        self.stderr = ""
        self._wlock = threading.Lock()
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        if proc is not None and proc.stderr is not None:
            threading.Thread(target=self._read_stderr, daemon=True).start()

    # --- starting ------------------------------------------------------------

    @classmethod
    def spawn(cls, args=(), python=sys.executable, **popen_kw):
        """Start `python -m sleuth dap ARGS` with the client on its stdin/stdout."""
        proc = subprocess.Popen([python, "-m", "sleuth", "dap", *args],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, **popen_kw)
        return cls(proc.stdout, proc.stdin, proc=proc)

    @classmethod
    def connect(cls, host, port, timeout=DEFAULT_TIMEOUT):
        """Connect to a DAP server, retrying until it listens or timeout passes."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((host, port), timeout=timeout)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        sock.settimeout(None)
        return cls(sock.makefile("rb"), sock.makefile("wb"), sock=sock)

    # --- sending -------------------------------------------------------------

    def send(self, msg):
        """Send a message dict; a request gets the next seq. Returns the seq."""
        with self._wlock:
            self.seq += 1
            msg = dict(msg, seq=self.seq)
            with self._cv:      # an answer to a raw message that reused this seq
                self.responses.pop(self.seq, None)
            self.send_raw(json.dumps(msg).encode(), _locked=True)
            return self.seq

    def send_raw(self, body, header=None, _locked=False):
        """Send bytes as a body (framed with a correct Content-Length unless a
        header is given: then exactly header + body)."""
        data = (header if header is not None
                else b"Content-Length: %d\r\n\r\n" % len(body)) + body
        if _locked:
            self._w.write(data)
            self._w.flush()
        else:
            with self._wlock:
                self._w.write(data)
                self._w.flush()

    def request_async(self, command, **arguments):
        msg = {"type": "request", "command": command}
        if arguments:
            msg["arguments"] = arguments
        return self.send(msg)

    def request(self, command, _timeout=None, **arguments):
        """Send a request and wait for its response (a dict)."""
        return self.response(self.request_async(command, **arguments), _timeout)

    def response(self, seq, timeout=None):
        return self._wait(lambda: self.responses.get(seq), f"the response to request {seq}",
                          timeout)

    def respond(self, request, body=None, success=True, message=None):
        """Answer a reverse request from the adapter."""
        msg = {"type": "response", "request_seq": request["seq"], "success": success,
               "command": request["command"], "body": body or {}}
        if message:
            msg["message"] = message
        return self.send(msg)

    # --- receiving -----------------------------------------------------------

    def wait_event(self, name, timeout=None, after=0):
        """The first `name` event at index >= after in self.events."""
        def find():
            for i, e in enumerate(self.events[after:], after):
                if e["event"] == name:
                    return e
            return None
        return self._wait(find, f"a {name!r} event", timeout)

    def wait_reverse_request(self, command, timeout=None):
        def find():
            for r in self.reverse_requests:
                if r["command"] == command:
                    return r
            return None
        return self._wait(find, f"a {command!r} reverse request", timeout)

    def wait_closed(self, timeout=None):
        return self._wait(lambda: self.closed, "the adapter closing the connection", timeout)

    def wait_output(self, text, category="stdout", timeout=None):
        return self._wait(lambda: text in self.output.get(category, ""),
                          f"{text!r} in {category} output", timeout)

    def _wait(self, find, what, timeout):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with self._cv:
            while True:
                got = find()
                if got:
                    return got
                left = deadline - time.monotonic()
                if self.closed:
                    left = 0                    # nothing more can come
                if left <= 0:
                    tail = self.messages[-5:]
                    raise TimeoutError(f"no {what}; last messages: {tail!r}; "
                                       f"closed={self.closed}; stderr={self.stderr[-2000:]!r}")
                self._cv.wait(left)

    def _read_message(self):
        length = None
        while True:
            line = self._r.readline()
            if not line:
                return None
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("ascii", "replace").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length is None:
            raise ValueError("a message without Content-Length from the adapter")
        body = self._r.read(length)
        if len(body) < length:
            return None
        return json.loads(body)

    def _read_loop(self):
        try:
            while True:
                msg = self._read_message()
                if msg is None:
                    break
                with self._cv:
                    self.messages.append(msg)
                    kind = msg.get("type")
                    if kind == "response":
                        self.responses[msg.get("request_seq")] = msg
                    elif kind == "event":
                        self.events.append(msg)
                        if msg["event"] == "output":
                            body = msg.get("body", {})
                            cat = body.get("category", "console")
                            self.output[cat] = self.output.get(cat, "") + body.get("output", "")
                    elif kind == "request":
                        self.reverse_requests.append(msg)
                    self._cv.notify_all()
        except (OSError, ValueError) as e:
            with self._cv:
                self.messages.append({"reader error": repr(e)})
        finally:
            with self._cv:
                self.closed = True
                self._cv.notify_all()

    def _read_stderr(self):
        for chunk in iter(lambda: self.proc.stderr.read1(4096), b""):
            self.stderr += chunk.decode("utf-8", "replace")

    # --- the end -------------------------------------------------------------

    def close(self, timeout=10):
        """Close our side; a spawned adapter is waited for (killed if it hangs).
        Returns its exit status (None for a socket)."""
        # The socket is shut down first: the reader thread may be blocked in
        # readline() holding the buffered reader's lock, and closing that
        # reader waits for the lock (a close before the shutdown hung
        # whenever the other side was still alive and silent).
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for f in (self._w, self._r):
            try:
                f.close()
            except OSError:
                pass
        if self.sock is not None:
            self.sock.close()
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.close()
        except subprocess.TimeoutExpired:
            if exc[0] is None:
                raise


def have_debuggee_server():
    """Does this build of sleuth have the debuggee side of DAP (sleuth.listen,
    python -m sleuth --listen/--connect)?"""
    import sleuth
    from sleuth import _sleuth
    return hasattr(sleuth, "listen") or hasattr(_sleuth, "listen")


def free_port():
    """A TCP port on loopback that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, timeout=30):
    """Wait until something listens on the port, without connecting (a probe
    connection would be taken for the client)."""
    hexport = ":%04X" % port
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    for line in f.readlines()[1:]:
                        fields = line.split()
                        if fields[1].endswith(hexport) and fields[3] == "0A":   # LISTEN
                            return
            except OSError:
                pass
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


def env_without_sleuth_autostart():
    env = dict(os.environ)
    for k in ("SLEUTH_FAULTS", "SLEUTH_EVIDENCE"):
        env.pop(k, None)
    return env
