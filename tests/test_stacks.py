"""sleuth stacks PID: read the stacks of another CPython process.

Every reader x target pairing is covered: this file runs under each of the
three Pythons (the reader) and spawns targets of each version by path.
Targets are left in known states (a thread blocked at a known line, named
sleeping threads, deep recursion) and the output is checked against the
target script's own line numbers, found by markers in its source.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from sleuth import _stacks

PYENV = os.environ.get("PYENV_ROOT", "/root/.pyenv")
TARGETS = {"3.11": "3.11.7", "3.12": "3.12.1", "3.13": "3.13.0"}
SANITIZED = bool(os.environ.get("SLEUTH_SANITIZED"))


def target_python(short):
    path = os.path.join(PYENV, "versions", TARGETS[short], "bin", "python" + short)
    if not os.path.exists(path):
        pytest.skip(f"no CPython {TARGETS[short]} at {path}")
    return path


TARGET_SCRIPT = textwrap.dedent('''
    import sys, threading, time
    sys.setrecursionlimit(20000)

    def blocked(ev, depth):
        if depth:
            return blocked(ev, depth - 1)  # MARK:recurse
        token = "hunter2"
        My_Api_Key = "k"
        session_id = 7
        count = 42
        ratio = 1.5
        name = "n\\u00e4me"
        data = b"\\x00ab"
        flag = True
        nothing = None
        big = 2 ** 100
        neg = -12345678901234
        huge = 10 ** 200
        long_text = "x" * 5000
        obj = [1, 2]
        captured = 5
        closure = lambda: captured
        ev.wait()  # MARK:blocked

    def sleeper():
        while True:
            time.sleep(1000)  # MARK:sleeper

    def deep(n):
        if n:
            return deep(n - 1)  # MARK:deep
        time.sleep(1000)  # MARK:deepbottom

    exec("def " + "f" * 5000 + "():\\n    time.sleep(1000)\\n")
    long_named = globals()["f" * 5000]

    class Holder:
        def method(self):
            time.sleep(1000)  # MARK:method

    ev = threading.Event()
    threading.Thread(target=blocked, args=(ev, 3), name="worker-blocked", daemon=True).start()
    for i in range(2):
        threading.Thread(target=sleeper, name=f"sleeper-{i}", daemon=True).start()
    threading.Thread(target=deep, args=(10000,), name="deep", daemon=True).start()
    threading.Thread(target=Holder().method, name="odd\\x1b[31m\\u00e9" + "y" * 300,
                     daemon=True).start()
    threading.Thread(target=long_named, name="long-function", daemon=True).start()
    time.sleep(0.3)   # let every thread reach its blocking call
    print("ready", flush=True)

    def main():
        sys.stdin.readline()  # MARK:main
    main()
''')


def marker_line(marker, source=TARGET_SCRIPT):
    for i, line in enumerate(source.splitlines(), 1):
        if f"# MARK:{marker}" in line:
            return i
    raise AssertionError(marker)


def spawn(python, script_path, *, ready=True):
    p = subprocess.Popen([python, script_path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    if ready:
        line = p.stdout.readline()
        if line.strip() != "ready":
            p.kill()
            raise AssertionError(f"target did not start: {line!r} {p.stderr.read()}")
        # Give the main thread the moment from print() to its blocking call:
        # wait (up to 2 s) for the kernel to see it asleep.
        for _ in range(200):
            with open(f"/proc/{p.pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "S":
                    break
            time.sleep(0.01)
    return p


def stop(p):
    if p.poll() is None:
        p.kill()
    p.wait()
    for f in (p.stdin, p.stdout, p.stderr):
        if f:
            f.close()


def run_main(capsys, *args):
    """sleuth stacks ARGS in this process; returns (status, stdout, stderr)."""
    status = _stacks.main(["sleuth stacks", *map(str, args)])
    out, err = capsys.readouterr()
    return status, out, err


def dump_json(capsys, pid, *extra):
    status, out, err = run_main(capsys, "--json", *extra, pid)
    assert status == 0, err
    return json.loads(out)


def thread_named(doc, name):
    found = [t for t in doc["threads"] if t["name"] == name]
    assert len(found) == 1, [t["name"] for t in doc["threads"]]
    return found[0]


@pytest.fixture(scope="module", params=sorted(TARGETS))
def target(request, tmp_path_factory):
    """A target of each version, in the states TARGET_SCRIPT describes."""
    python = target_python(request.param)
    path = tmp_path_factory.mktemp("stacks") / "target.py"
    path.write_text(TARGET_SCRIPT)
    p = spawn(python, str(path))
    p.script = str(path)
    p.version = request.param
    yield p
    stop(p)


# --- what a dump shows --------------------------------------------------------

def test_text_dump_names_lines_and_functions(target, capsys):
    status, out, err = run_main(capsys, target.pid)
    assert status == 0, err
    assert err == ""
    lines = out.splitlines()
    assert lines[0].startswith(f"Process {target.pid}: ")
    assert lines[1].startswith(f"Python v{TARGETS[target.version]} (")
    f = target.script
    assert f'(idle): "worker-blocked"' in out
    assert f'(idle): "sleeper-0"' in out and f'(idle): "sleeper-1"' in out
    assert f'"MainThread"' in out
    assert f"    blocked ({f}:{marker_line('blocked')})\n" in out
    assert out.count(f"    blocked ({f}:{marker_line('recurse')})\n") == 3
    assert out.count(f"    sleeper ({f}:{marker_line('sleeper')})\n") == 2
    assert f"    main ({f}:{marker_line('main')})\n" in out
    assert f"    Holder.method ({f}:{marker_line('method')})\n" in out
    assert "Event.wait (" in out and "Thread.run (" in out


def test_json_frames_in_order(target, capsys):
    doc = dump_json(capsys, target.pid)
    assert doc["schema"] == "sleuth.stacks/1"
    assert doc["pid"] == target.pid
    assert doc["python"]["version"] == TARGETS[target.version]
    assert doc["paused"] is False
    t = thread_named(doc, "worker-blocked")
    assert t["name_source"] == "threading"
    names = [fr["function"] for fr in t["frames"]]
    assert names == ["wait", "wait", "blocked", "blocked", "blocked", "blocked",
                     "run", "_bootstrap_inner", "_bootstrap"]
    assert [fr["qualname"] for fr in t["frames"][:2]] == ["Condition.wait", "Event.wait"]
    lines = [fr["line"] for fr in t["frames"][2:6]]
    assert lines == [marker_line("blocked")] + [marker_line("recurse")] * 3
    assert all(fr["file"] == target.script for fr in t["frames"][2:6])
    assert t["frames_cut"] == 0 and t["note"] is None
    assert isinstance(t["native_id"], int) and t["native_id"] > 0
    assert t["state"] in "SDR"
    main = thread_named(doc, "MainThread")
    assert main["native_id"] == target.pid
    assert [(fr["function"], fr["line"]) for fr in main["frames"]] == [
        ("main", marker_line("main")), ("<module>", marker_line("main") + 1)]
    # Threads are listed in creation order: the main thread first.
    assert doc["threads"][0]["name"] == "MainThread"
    # Every thread is idle here, so nobody holds the GIL.
    assert not any(t["gil"] for t in doc["threads"])
    assert "locals" not in t["frames"][0]


def test_locals_are_simple_bounded_and_redacted(target, capsys):
    doc = dump_json(capsys, target.pid, "--locals")
    fr = thread_named(doc, "worker-blocked")["frames"][2]
    assert fr["function"] == "blocked"
    loc = {entry["name"]: entry for entry in fr["locals"]}
    for secret in ("token", "My_Api_Key", "session_id"):
        assert loc[secret] == {"name": secret, "redacted": True}
    assert loc["count"]["repr"] == "42"
    assert loc["depth"]["repr"] == "0"
    assert loc["ratio"]["repr"] == "1.5"
    assert loc["name"]["repr"] == "'n\u00e4me'"
    assert loc["data"]["repr"] == "b'\\x00ab'"
    assert loc["flag"]["repr"] == "True"
    assert loc["nothing"]["repr"] == "None"
    assert loc["big"]["repr"] == str(2 ** 100)
    assert loc["neg"]["repr"] == "-12345678901234"
    assert loc["huge"]["repr"].startswith("<int of about ")
    assert loc["long_text"]["repr"] == repr("x" * 200) + "..."
    assert loc["obj"]["repr"].startswith("<list object at 0x")
    assert loc["captured"]["repr"] == "5"          # a cell variable, looked through
    assert loc["closure"]["repr"].startswith("<function object at 0x")
    assert "hunter2" not in json.dumps(doc)
    status, out, err = run_main(capsys, "--locals", target.pid)
    assert status == 0, err
    assert "            token: [redacted]\n" in out
    assert "            count: 42\n" in out
    assert "hunter2" not in out


def test_deep_stack_is_cut_with_a_note(target, capsys):
    doc = dump_json(capsys, target.pid)
    t = thread_named(doc, "deep")
    assert len(t["frames"]) == 1000
    assert t["frames"][0]["line"] == marker_line("deepbottom")
    assert all(fr["line"] == marker_line("deep") for fr in t["frames"][1:])
    # 10001 deep() frames + run, _bootstrap_inner, _bootstrap
    assert len(t["frames"]) + t["frames_cut"] == 10004
    status, out, err = run_main(capsys, "--max-depth", "5", target.pid)
    assert status == 0, err
    assert "    ... 9999 more frames not shown (--max-depth 5)\n" in out


def test_thread_limit_is_reported(target, capsys):
    doc = dump_json(capsys, target.pid, "--max-threads", "2")
    assert len(doc["threads"]) == 2
    assert doc["threads_cut"] == 5
    status, out, err = run_main(capsys, "--max-threads", "2", target.pid)
    assert "\n... 5 more threads not shown (--max-threads 2)\n" in out


def test_odd_thread_names_are_escaped(target, capsys):
    status, out, err = run_main(capsys, target.pid)
    assert status == 0
    assert "\x1b" not in out
    assert '"odd\\x1b[31m\u00e9' + "y" * 186 in out
    doc = dump_json(capsys, target.pid)
    names = [t["name"] for t in doc["threads"]]
    odd = [n for n in names if n.startswith("odd")]
    # thread names are kept to 200 characters, and the cut shows
    assert odd == ["odd\x1b[31m\u00e9" + "y" * 191 + "..."]
    # function names to 1024
    frames = thread_named(doc, "long-function")["frames"]
    assert frames[0]["function"] == "f" * 1024 + "..."
    assert frames[0]["qualname"] == "f" * 1024 + "..."


def test_non_utf8_file_names(tmp_path, capsys):
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    path = os.path.join(os.fsencode(tmp_path), b"bad\xff\xfename.py")
    with open(path, "w") as f:
        f.write("import time\nprint('ready', flush=True)\ntime.sleep(1000)\n")
    p = spawn(target_python(version), os.fsdecode(path))
    try:
        for _ in range(200):   # until it has gone from print() to sleep()
            frame = dump_json(capsys, p.pid)["threads"][0]["frames"][0]
            if frame["line"] == 3:
                break
            time.sleep(0.01)
    finally:
        stop(p)
    assert frame["file"].endswith("bad\ufffd\ufffdname.py")
    assert frame["line"] == 3


def test_pause_reads_a_stopped_process_and_resumes_it(target, capsys):
    doc = dump_json(capsys, target.pid, "--pause")
    assert doc["paused"] is True
    assert doc["changed_during_read"] is False
    assert thread_named(doc, "worker-blocked")["frames"][2]["line"] == marker_line("blocked")
    # States were taken before the stop: no thread shows as traced/stopped.
    assert not any(t["state"] in "tT" for t in doc["threads"])
    with open(f"/proc/{target.pid}/status") as f:
        state = [ln for ln in f if ln.startswith("State:")][0]
    assert "stopped" not in state and "tracing" not in state
    assert target.poll() is None


def test_command_line_entry_point(target, py):
    r = py(["-m", "sleuth", "stacks", str(target.pid)])
    assert r.returncode == 0, r.stderr
    assert '"worker-blocked"' in r.stdout


# --- the GIL ----------------------------------------------------------------------

GIL_SCRIPT = textwrap.dedent('''
    import threading, time
    def spin():
        x = 0
        while True:
            x += 1  # MARK:spin
    threading.Thread(target=spin, name="spinner", daemon=True).start()
    time.sleep(0.2)
    print("ready", flush=True)
    time.sleep(1000)
''')


@pytest.mark.parametrize("version", sorted(TARGETS))
def test_gil_holder_is_the_busy_thread(version, tmp_path, capsys):
    path = tmp_path / "spin.py"
    path.write_text(GIL_SCRIPT)
    p = spawn(target_python(version), str(path))
    try:
        seen = False
        for _ in range(50):
            doc = dump_json(capsys, p.pid)
            holders = [t["name"] for t in doc["threads"] if t["gil"]]
            assert len(holders) <= 1
            assert "MainThread" not in holders   # it sleeps with the GIL released
            if holders == ["spinner"]:
                seen = True
                spin = thread_named(doc, "spinner")
                if spin["frames"] and spin["frames"][0]["line"] == marker_line("spin", GIL_SCRIPT):
                    break
        assert seen
        status, out, err = run_main(capsys, "--pause", p.pid)
        assert '(active+gil): "spinner"' in out or '(idle+gil): "spinner"' in out
    finally:
        stop(p)


# --- bad input: clear errors with status 2 ---------------------------------------

def test_no_such_process(capsys):
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    status, out, err = run_main(capsys, p.pid)
    assert status == 2
    assert out == ""
    assert err == f"sleuth stacks: error: no such process: {p.pid}\n"


def test_not_a_python_process(capsys):
    sleep = shutil.which("sleep")
    p = subprocess.Popen([sleep, "100"])
    try:
        time.sleep(0.1)
        status, out, err = run_main(capsys, p.pid)
    finally:
        p.kill()
        p.wait()
    assert status == 2
    assert err.startswith(f"sleuth stacks: error: process {p.pid} is not a Python process")
    assert err.count("\n") == 1


def test_unsupported_version_is_named(capsys):
    old = os.path.join(PYENV, "versions", "3.10.13", "bin", "python3.10")
    if not os.path.exists(old):
        pytest.skip("no CPython 3.10 installed")
    p = subprocess.Popen([old, "-c", "import time; print('ready', flush=True); time.sleep(100)"],
                         stdout=subprocess.PIPE, text=True)
    try:
        p.stdout.readline()
        status, out, err = run_main(capsys, p.pid)
    finally:
        p.kill()
        p.wait()
        p.stdout.close()
    assert status == 2
    assert "runs Python 3.10, which is not supported" in err
    assert err.count("\n") == 1


def test_permission_denied_explains_ptrace(tmp_path):
    """A non-dumpable target read by a reader without CAP_SYS_PTRACE."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        pytest.skip("needs root and setpriv to drop CAP_SYS_PTRACE")
    script = tmp_path / "nodump.py"
    script.write_text("import ctypes, sys\n"
                      "ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0\n"
                      "print('ready', flush=True)\nsys.stdin.readline()\n")
    p = spawn(sys.executable, str(script))
    try:
        r = subprocess.run([setpriv, "--inh-caps=-sys_ptrace", "--bounding-set=-sys_ptrace",
                            sys.executable, "-m", "sleuth", "stacks", str(p.pid)],
                           capture_output=True, text=True, timeout=60)
    finally:
        stop(p)
    if r.returncode == 0:
        pytest.skip("this kernel lets the reader in without CAP_SYS_PTRACE")
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"sleuth stacks: error: permission denied reading process {p.pid}")
    assert "ptrace_scope" in r.stderr and "CAP_SYS_PTRACE" in r.stderr
    assert r.stderr.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    ([], "a PID is required"),
    (["--bogus", "1"], "unknown option: --bogus"),
    (["abc"], "not a process id: abc"),
    (["0"], "not a process id: 0"),
    (["1", "2"], "only one PID may be given"),
    (["--max-depth", "0", "1"], "--max-depth needs a number"),
    (["--max-threads"], "--max-threads needs a number"),
])
def test_usage_errors(capsys, args, message):
    status, out, err = run_main(capsys, *args)
    assert status == 2
    assert f"sleuth stacks: error: {message}" in err


def test_help(capsys):
    status, out, err = run_main(capsys, "--help")
    assert status == 0
    assert out.startswith("usage: sleuth stacks ")
    assert "--pause" in out and "--json" in out


def test_main_rejects_non_list():
    with pytest.raises(TypeError):
        _stacks.main("sleuth stacks 1")
    with pytest.raises(TypeError):
        _stacks.main(["sleuth stacks", 1])


# --- robustness: targets that change under the read -----------------------------

CHURN_SCRIPT = textwrap.dedent('''
    import threading, time
    def work(n):
        if n:
            return work(n - 1)
        time.sleep(0.001)
    def churn():
        while True:
            ts = [threading.Thread(target=work, args=(i % 50,)) for i in range(8)]
            for t in ts: t.start()
            for t in ts: t.join()
    for _ in range(2):
        threading.Thread(target=churn, daemon=True).start()
    print("ready", flush=True)
    def recurse(n):
        if n:
            return recurse(n - 1)
        return 0
    while True:
        recurse(200)
''')


@pytest.mark.parametrize("version", sorted(TARGETS))
def test_threads_starting_and_ending_during_reads(version, tmp_path, capsys):
    path = tmp_path / "churn.py"
    path.write_text(CHURN_SCRIPT)
    p = spawn(target_python(version), str(path))
    try:
        for i in range(30):
            args = ["--json", "--locals"] + (["--pause"] if i % 3 == 0 else [])
            status, out, err = run_main(capsys, *args, p.pid)
            assert status == 0, err
            doc = json.loads(out)
            assert doc["threads"], out
            for t in doc["threads"]:
                for fr in t["frames"]:
                    assert isinstance(fr["function"], str) and isinstance(fr["file"], str)
                    assert fr["line"] is None or fr["line"] > 0
                    if fr["file"] == str(path):
                        assert fr["function"] in ("work", "churn", "recurse", "<module>",
                                                  "<listcomp>"), fr  # 3.11: own frame
            if i % 3 == 0:
                assert doc["changed_during_read"] is False
    finally:
        stop(p)


def test_process_exiting_while_read(tmp_path, capsys):
    """Dump a process again and again while it exits: status 0 or a clean 2."""
    script = "import threading, time\n" \
             "ts = [threading.Thread(target=time.sleep, args=(0.3,)) for _ in range(20)]\n" \
             "[t.start() for t in ts]\nprint('ready', flush=True)\ntime.sleep(0.5)\n"
    path = tmp_path / "exiting.py"
    path.write_text(script)
    for version in sorted(TARGETS):
        p = spawn(target_python(version), str(path))
        try:
            statuses = set()
            while p.poll() is None:
                status, out, err = run_main(capsys, "--json", p.pid)
                statuses.add(status)
                if status == 0:
                    json.loads(out)
                else:
                    assert status == 2
                    assert err.startswith("sleuth stacks: error: ") and err.count("\n") == 1
            assert 0 in statuses
        finally:
            stop(p)


MANY_SCRIPT = textwrap.dedent('''
    import threading
    ev = threading.Event()
    for i in range(500):
        threading.Thread(target=ev.wait, name=f"t{i}", daemon=True).start()
    print("ready", flush=True)
    ev.wait()
''')


def test_five_hundred_threads(tmp_path, capsys):
    path = tmp_path / "many.py"
    path.write_text(MANY_SCRIPT)
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    p = spawn(target_python(version), str(path))
    try:
        doc = dump_json(capsys, p.pid)
        assert len(doc["threads"]) == 501
        assert {t["name"] for t in doc["threads"]} == {"MainThread"} | {f"t{i}" for i in range(500)}
        doc = dump_json(capsys, p.pid, "--max-threads", "100")
        assert len(doc["threads"]) == 100 and doc["threads_cut"] == 401
    finally:
        stop(p)


def test_interpreter_linked_into_the_executable(tmp_path, capsys):
    """A python binary with libpython linked in (Debian's /usr/bin/python3.11,
    non-PIE, stripped .symtab): the runtime is found in the executable's .dynsym."""
    exe = "/usr/bin/python3.11"
    if not os.path.exists(exe):
        pytest.skip("no system python3.11")
    r = subprocess.run(["ldd", exe], capture_output=True, text=True)
    if "libpython" in r.stdout:
        pytest.skip("this python3.11 uses a shared libpython")
    path = tmp_path / "target.py"
    path.write_text(TARGET_SCRIPT)
    p = spawn(exe, str(path))
    try:
        doc = dump_json(capsys, p.pid)
    finally:
        stop(p)
    assert doc["python"]["runtime_file"] == exe
    assert doc["python"]["version"].startswith("3.11.")
    t = thread_named(doc, "worker-blocked")
    assert [fr["line"] for fr in t["frames"][2:6]] == \
        [marker_line("blocked")] + [marker_line("recurse")] * 3


def test_pause_when_another_tracer_holds_the_process(tmp_path, capsys):
    """--pause on a process some debugger already traces: a clear error, and
    reading without --pause still works."""
    script = tmp_path / "traced.py"
    script.write_text("import ctypes, sys\n"
                      "ctypes.CDLL(None).ptrace(0, 0, 0, 0)  # PTRACE_TRACEME: parent traces\n"
                      "print('ready', flush=True)\nsys.stdin.readline()\n")
    p = spawn(sys.executable, str(script))
    try:
        status, out, err = run_main(capsys, "--pause", p.pid)
        assert status == 2
        assert f"it is already being traced by process {os.getpid()}" in err
        status, out, err = run_main(capsys, p.pid)
        assert status == 0, err
    finally:
        stop(p)


# --- native frames ------------------------------------------------------------------

def test_native_frames_interleaved(target, capsys):
    doc = dump_json(capsys, target.pid, "--native")
    plain = dump_json(capsys, target.pid)
    assert doc["paused"] is True
    for name in ("MainThread", "worker-blocked"):
        t = thread_named(doc, name)
        assert t["native_frames"] > 0
        frames = t["frames"]
        kinds = [fr["kind"] for fr in frames]
        assert kinds[0] == "native"                 # the thread sits in a syscall
        assert frames[0]["module"].startswith("libc")
        # The Python frames are exactly those of a plain dump, in order ...
        py = [(fr["function"], fr["line"]) for fr in frames if fr["kind"] == "python"]
        assert py == [(fr["function"], fr["line"]) for fr in thread_named(plain, name)["frames"]]
        # ... and every run of the interpreter loop was replaced by them.
        symbols = [fr["symbol"] for fr in frames if fr["kind"] == "native"]
        assert "_PyEval_EvalFrameDefault" not in symbols
    main = thread_named(doc, "MainThread")["frames"]
    index = {(fr.get("symbol") or fr.get("function")): i for i, fr in enumerate(main)}
    assert index["main"] < index["<module>"] < index["Py_BytesMain"]
    sleeper = thread_named(doc, "sleeper-0")["frames"]
    index = {(fr.get("symbol") or fr.get("function")): i for i, fr in enumerate(sleeper)}
    assert index["time_sleep"] < index["sleeper"] < index["_bootstrap"]
    worker = thread_named(doc, "worker-blocked")["frames"]
    index = {(fr.get("symbol") or fr.get("qualname")): i for i, fr in enumerate(worker)}
    assert index["lock_PyThread_acquire_lock"] < index["Condition.wait"]
    status, out, err = run_main(capsys, "--native", target.pid)
    assert status == 0, err
    assert "    time_sleep+0x" in out and "(libpython" in out
    # Only where Python frames were cut (the 10,000-deep thread) does the
    # interpreter loop itself show.
    assert out.count("_PyEval_EvalFrameDefault") == \
        sum(fr.get("symbol") == "_PyEval_EvalFrameDefault"
            for fr in thread_named(doc, "deep")["frames"])


def test_reading_itself(capsys):
    """The reader's own process: this test function is on the stack, in the
    thread that calls main(), at the line of that call."""
    here = test_reading_itself.__code__
    status = _stacks.main(["sleuth stacks", "--json", str(os.getpid())])  # MARK:self
    out, err = capsys.readouterr()
    assert status == 0, err
    doc = json.loads(out)
    me = [t for t in doc["threads"] if t["native_id"] == threading_native_id()][0]
    top = me["frames"][0]
    assert (top["function"], top["file"]) == ("test_reading_itself", here.co_filename)
    with open(here.co_filename) as f:
        assert top["line"] == marker_line("self", f.read())
    status, out, err = run_main(capsys, "--pause", os.getpid())
    assert status == 2 and "it is sleuth itself" in err


def threading_native_id():
    import threading
    return threading.get_native_id()


SUBINTERP_SCRIPT = textwrap.dedent('''
    import threading, time
    try:
        import _interpreters as interpreters          # 3.13
    except ImportError:
        import _xxsubinterpreters as interpreters     # 3.11, 3.12
    iid = interpreters.create()
    def run():
        interpreters.run_string(iid, "import time\\ndef sub_sleep():\\n    time.sleep(1000)\\n"
                                     "sub_sleep()\\n")
    threading.Thread(target=run, name="host", daemon=True).start()
    time.sleep(0.5)
    print("ready", flush=True)
    time.sleep(1000)
''')


@pytest.mark.parametrize("version", sorted(TARGETS))
def test_subinterpreter_threads(version, tmp_path, capsys):
    path = tmp_path / "sub.py"
    path.write_text(SUBINTERP_SCRIPT)
    p = spawn(target_python(version), str(path))
    try:
        doc = dump_json(capsys, p.pid)
        status, out, err = run_main(capsys, p.pid)
    finally:
        stop(p)
    interps = [t["interpreter"] for t in doc["threads"]]
    assert interps[0] == 0 and interps == sorted(interps)   # the main interpreter first
    sub = [t for t in doc["threads"] if t["interpreter"] != 0]
    assert len(sub) == 1
    assert [(f["function"], f["file"], f["line"]) for f in sub[0]["frames"]] == [
        ("sub_sleep", "<string>", 3), ("<module>", "<string>", 4)]
    host = thread_named(doc, "host") if version != "3.13" else \
        [t for t in doc["threads"] if t["name"] == "host" and t["interpreter"] == 0][0]
    assert host["frames"][0]["function"] == "run"
    assert f" [interpreter {sub[0]['interpreter']}]\n    sub_sleep (<string>:3)\n" in out


GARBAGE_SCRIPT = textwrap.dedent('''
    import random, threading, time
    rng = random.Random(1234)
    ev = threading.Event()
    def victim():
        ev.wait()
    started = []
    for i in range(40):
        table = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
        code = victim.__code__.replace(co_linetable=table,
                                       co_firstlineno=rng.choice([1, 2**31 - 1, 5]))
        f = type(victim)(code, globals(), f"garbage{i}")
        threading.Thread(target=f, name=f"g{i}", daemon=True).start()
    time.sleep(0.3)
    print("ready", flush=True)
    ev.wait()
''')


@pytest.mark.parametrize("version", sorted(TARGETS))
def test_garbage_location_tables(version, tmp_path, capsys):
    """Code objects whose co_linetable is random bytes: the decoder stays in
    bounds, and each line is a number or null, never a crash."""
    path = tmp_path / "garbage.py"
    path.write_text(GARBAGE_SCRIPT)
    p = spawn(target_python(version), str(path))
    try:
        doc = dump_json(capsys, p.pid, "--locals")
        status, out, err = run_main(capsys, p.pid)
        assert status == 0, err
    finally:
        stop(p)
    victims = [t for t in doc["threads"] if t["name"].startswith("g")]
    assert len(victims) == 40
    for t in victims:
        fr = [f for f in t["frames"] if f["function"] == "victim"]
        assert len(fr) == 1
        assert fr[0]["line"] is None or isinstance(fr[0]["line"], int)


SIGNAL_SCRIPT = textwrap.dedent('''
    import os, signal, threading, time
    signal.signal(signal.SIGUSR1, lambda *a: os.write(1, b"sig\\n"))
    ev = threading.Event()
    for i in range(4):
        threading.Thread(target=ev.wait, daemon=True).start()
    print("ready", flush=True)
    while True:
        time.sleep(0.001)
''')


def test_signals_arriving_around_a_pause_are_delivered(tmp_path, capsys):
    import select
    path = tmp_path / "sig.py"
    path.write_text(SIGNAL_SCRIPT)
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    p = spawn(target_python(version), str(path))
    try:
        for _ in range(10):
            os.kill(p.pid, signal.SIGUSR1)
            status, out, err = run_main(capsys, "--pause", p.pid)
            assert status == 0, err
            ready, _, _ = select.select([p.stdout], [], [], 20)
            assert ready, "the signal was lost"
            assert p.stdout.readline() == "sig\n"
        with open(f"/proc/{p.pid}/status") as f:
            assert "(stopped)" not in f.read()
    finally:
        stop(p)


CTYPES_SCRIPT = textwrap.dedent('''
    import ctypes, threading, time
    libc = ctypes.CDLL(None)
    def call_c():
        libc.pause()  # MARK:pause
    threading.Thread(target=call_c, name="in-c", daemon=True).start()
    time.sleep(0.3)
    print("ready", flush=True)
    time.sleep(1000)
''')


@pytest.mark.parametrize("version", sorted(TARGETS))
def test_native_frames_through_an_extension_and_libffi(version, tmp_path, capsys):
    path = tmp_path / "inc.py"
    path.write_text(CTYPES_SCRIPT)
    p = spawn(target_python(version), str(path))
    try:
        doc = dump_json(capsys, p.pid, "--native")
    finally:
        stop(p)
    frames = thread_named(doc, "in-c")["frames"]
    assert frames[0]["kind"] == "native" and frames[0]["symbol"] == "pause"
    names = [fr.get("symbol") or fr.get("qualname") for fr in frames]
    assert names.index("_ctypes_callproc") < names.index("call_c") < names.index("Thread.run")
    call = frames[names.index("call_c")]
    assert call["line"] == marker_line("pause", CTYPES_SCRIPT)
    assert frames[names.index("_ctypes_callproc")]["module"].startswith("_ctypes.")


BIDI_SCRIPT = textwrap.dedent('''
    import threading, time
    threading.Thread(target=time.sleep, args=(1000,), daemon=True,
                     name="bidi\\u202eX\\u2066Y\\x9bZ\\u200bW").start()
    time.sleep(0.3)
    print("ready", flush=True)
    import sys
    sys.stdin.readline()
''')


def test_bidi_and_c1_controls_in_names_are_escaped(tmp_path, capsys):
    # Text read from another process is shown like an evidence file's: C1
    # controls and bidi/invisible format characters escaped, not only C0.
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    path = tmp_path / "bidi.py"
    path.write_text(BIDI_SCRIPT)
    p = spawn(target_python(version), str(path))
    try:
        status, out, err = run_main(capsys, p.pid)
    finally:
        stop(p)
    assert status == 0, err
    for ch in "\u202e\u2066\x9b\u200b":
        assert ch not in out, repr(ch)
    assert "bidi\\u202eX\\u2066Y\\x9bZ\\u200bW" in out
