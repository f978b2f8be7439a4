"""sleuth.faults without crashing: dump(), dump_later(), register(), arguments.

The cases that install signal handlers or a watchdog run in child processes
so that the test process (and pytest's own faulthandler) is left alone;
dump() runs in-process."""
import faulthandler
import os
import re
import signal
import sys
import textwrap
import threading

import pytest

import sleuth.faults
from conftest import run_python

NAME_LINE = re.compile(r'^  (Current thread|Thread) 0x([0-9a-f]{16}) "(.*)"$')


def read(path):
    with open(path) as f:
        return f.read()


def test_public_api_is_the_c_module():
    import sleuth._faults
    for name in sleuth.faults.__all__:
        assert getattr(sleuth.faults, name) is getattr(sleuth._faults, name)
    assert set(sleuth.faults.__all__) == {
        "enable", "disable", "is_enabled", "dump_traceback", "dump_traceback_later",
        "cancel_dump_traceback_later", "register", "unregister", "dump_c_stack",
        "dump", "dump_later", "cancel_dump_later"}


def test_faulthandlers_names_and_parameters():
    """Every public name of faulthandler, with its parameters in its order
    (faulthandler's own text signatures do not parse: `file=sys.stderr`)."""
    import inspect
    params = {
        "enable": ["file", "all_threads"],
        "disable": [], "is_enabled": [],
        "dump_traceback": ["file", "all_threads"],
        "dump_traceback_later": ["timeout", "repeat", "file", "exit"],
        "cancel_dump_traceback_later": [],
        "register": ["signum", "file", "all_threads", "chain"],
        "unregister": ["signum"],
    }
    public = {n for n in dir(faulthandler) if not n.startswith("_")}
    assert public <= set(params)
    for name, expected in params.items():
        if name not in public:
            continue
        got = list(inspect.signature(getattr(sleuth.faults, name)).parameters)
        assert got[:len(expected)] == expected, name
    assert str(inspect.signature(sleuth.faults.dump_c_stack)) == "(file=None)"


def test_every_name_of_faulthandler_is_there():
    """Every name of this version's faulthandler, its private crash helpers
    included (CPython's test_faulthandler crashes its children with them):
    sleuth's own where it has one, else the standard library's object."""
    import inspect
    for name in dir(faulthandler):
        if name.startswith("__"):
            continue
        assert hasattr(sleuth.faults, name), name
        if not name.startswith("_"):
            inspect.signature(getattr(sleuth.faults, name))
    for name in ("_stack_overflow", "_fatal_error_c_thread"):
        if hasattr(faulthandler, name):
            assert getattr(sleuth.faults, name) is getattr(faulthandler, name)
    # importing the standard library's module for them does not enable it
    r = run_python(["-c", "import sleuth.faults, faulthandler; print(faulthandler.is_enabled())"])
    assert r.stdout == "False\n", r.stderr


def test_signatures_are_introspectable():
    import inspect
    assert str(inspect.signature(sleuth.faults.enable)) == "(file=None, all_threads=True, c_stack=True)"
    assert str(inspect.signature(sleuth.faults.dump_later)) == \
        "(timeout, repeat=False, file=None, exit=False)"
    assert str(inspect.signature(sleuth.faults.register)) == \
        "(signum, file=None, all_threads=True, chain=False)"


def test_dump_matches_faulthandler(tmp_path):
    """Both dumps taken from the same line: byte-identical by default; with
    thread_names=True, the names follow in a section of their own."""
    ours, names, theirs = tmp_path / "ours", tmp_path / "names", tmp_path / "theirs"
    with open(ours, "w") as a, open(names, "w") as n, open(theirs, "w") as b:
        sleuth.faults.dump_traceback(a); sleuth.faults.dump(n, thread_names=True); faulthandler.dump_traceback(b)  # noqa: E501,E702 (same line on purpose)
    text = read(ours)
    assert text == read(theirs)
    assert f'  File "{__file__}", line ' in text
    assert " in test_dump_matches_faulthandler\n" in text
    with_names = read(names)
    assert with_names.startswith(text + "\nThread names:\n"), with_names
    found = {}
    for line in with_names[len(text) + len("\nThread names:\n"):].splitlines():
        m = NAME_LINE.match(line)
        assert m, line
        found[m.group(2)] = (m.group(1), m.group(3))
    assert found[format(threading.get_ident(), "016x")] == (
        "Current thread", threading.current_thread().name)


def test_dump_current_thread_only_and_fd(tmp_path):
    path = tmp_path / "out"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        sleuth.faults.dump(fd, all_threads=False)
    finally:
        os.close(fd)
    text = read(path)
    assert text.startswith("Stack (most recent call first):\n")
    assert "Thread 0x" not in text
    assert " in test_dump_current_thread_only_and_fd\n" in text


def test_dump_shows_thread_names_escaped(tmp_path):
    ready, done = threading.Event(), threading.Event()

    def parked():
        ready.set()
        done.wait()

    t = threading.Thread(target=parked, name='wörker "7"')
    t.start()
    ready.wait()
    try:
        with open(tmp_path / "out", "w") as f:
            sleuth.faults.dump(f, thread_names=True)
    finally:
        done.set()
        t.join()
    text = read(tmp_path / "out")
    # UTF-8 bytes escaped, quotes backslashed: one ASCII line, unambiguous.
    assert f'\n  Thread 0x{t.ident:016x} "w\\xc3\\xb6rker \\"7\\""\n' in text
    assert " in parked\n" in text


def test_dump_bounds_deep_stacks_and_long_names(tmp_path):
    out = tmp_path / "out"
    long_name = "f" * 600
    ns = {}
    exec(textwrap.dedent(f"""\
        def {long_name}(n, dump):
            if n:
                return {long_name}(n - 1, dump)
            dump()
        def ünïcode(dump):
            {long_name}(300, dump)
        """), ns)

    def dump():
        with open(out, "w") as f:
            sleuth.faults.dump(f, all_threads=False)

    ns["ünïcode"](dump)
    lines = read(out).splitlines()
    assert lines[0] == "Stack (most recent call first):"
    assert len(lines) == 1 + 100 + 1           # header, 100 frames, "..."
    assert lines[-1] == "  ..."
    cut = "f" * 500 + "..."
    assert lines[2].endswith(" in " + cut)
    assert sum(line.endswith(" in " + cut) for line in lines) == 100 - 1
    # When the stack is short enough the non-ASCII name shows, escaped.
    with open(out, "w") as f:
        ns2 = {}
        exec("def ünïcode(f):\n    sleuth.faults.dump(f, all_threads=False)\n",
             {"sleuth": sleuth}, ns2)
        ns2["ünïcode"](f)
    assert " in \\xfcn\\xefcode\n" in read(out)


def test_dump_bounds_thread_count(tmp_path):
    done = threading.Event()
    threads = [threading.Thread(target=done.wait) for _ in range(120)]
    for t in threads:
        t.start()
    try:
        with open(tmp_path / "out", "w") as f:
            sleuth.faults.dump(f)
    finally:
        done.set()
        for t in threads:
            t.join()
    text = read(tmp_path / "out")
    assert len(re.findall(r"^(?:Current thread|Thread) 0x", text, re.M)) == 100
    assert text.endswith("\n...\n")


def test_file_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError):
        sleuth.faults.dump(-1)
    with pytest.raises(AttributeError):
        sleuth.faults.dump(object())
    with pytest.raises(TypeError):
        sleuth.faults.dump_later("soon")
    with pytest.raises(ValueError):
        sleuth.faults.dump_later(0)
    with pytest.raises(ValueError):
        sleuth.faults.dump_later(-1.5)
    with pytest.raises(RuntimeError, match="use enable"):
        sleuth.faults.register(signal.SIGSEGV)
    with pytest.raises(ValueError):
        sleuth.faults.register(0)
    with pytest.raises(ValueError):
        sleuth.faults.unregister(10_000)
    saved = sys.stderr
    sys.stderr = None
    try:
        with pytest.raises(RuntimeError, match="sys.stderr is None"):
            sleuth.faults.dump()
    finally:
        sys.stderr = saved


def run(tmp_path, body, **kw):
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(body))
    return path, run_python([str(path)], **kw)


def test_dump_later_reports_a_thread_stuck_holding_the_gil(tmp_path):
    """The main thread sits in a C call that keeps the GIL (ctypes.PyDLL):
    a watchdog that needed the GIL would never report. exit=True ends it."""
    path, r = run(tmp_path, """\
        import ctypes
        import sleuth.faults
        sleuth.faults.dump_later(0.5, exit=True)
        ctypes.PyDLL(None).sleep(60)
        print("not reached")
        """)
    assert r.returncode == 1, r.stderr
    assert "not reached" not in r.stdout
    assert r.stderr.startswith("Timeout (0:00:00.500000)!\n")
    assert re.search(r"^Thread 0x[0-9a-f]{16} \(most recent call first\):\n"
                     + re.escape(f'  File "{path}", line 4 in <module>\n'), r.stderr, re.M), r.stderr
    assert "Current thread" not in r.stderr   # the watchdog is not a Python thread


def test_dump_later_repeat_and_cancel(tmp_path):
    log = tmp_path / "log"
    path, r = run(tmp_path, f"""\
        import os, time
        import sleuth.faults
        f = open({str(log)!r}, "w")
        sleuth.faults.dump_later(0.05, repeat=True, file=f)
        while open({str(log)!r}).read().count("Timeout") < 3:
            time.sleep(0.01)
        sleuth.faults.cancel_dump_later()
        n = open({str(log)!r}).read().count("Timeout")
        time.sleep(0.3)
        print(n, open({str(log)!r}).read().count("Timeout"))
        sleuth.faults.cancel_dump_later()      # twice is fine
        """, timeout=120)
    assert r.returncode == 0, r.stderr
    before, after = r.stdout.split()
    assert before == after                  # nothing after cancel
    assert read(log).startswith("Timeout (0:00:00.050000)!\nThread 0x")


def test_dump_later_rearm_replaces_and_exit_at_shutdown(tmp_path):
    path, r = run(tmp_path, """\
        import sleuth.faults
        sleuth.faults.dump_later(30)
        sleuth.faults.dump_later(20, file=2)
        print("done")
        """)
    # Interpreter exit cancels the watchdog: no report, no hang.
    assert r.returncode == 0 and r.stdout == "done\n" and r.stderr == "", r.stderr


def test_register_dumps_on_signal_and_unregister(tmp_path):
    log = tmp_path / "log"
    path, r = run(tmp_path, f"""\
        import os, signal
        import sleuth.faults
        f = open({str(log)!r}, "w")
        sleuth.faults.register(signal.SIGUSR1, file=f, all_threads=False)
        os.kill(os.getpid(), signal.SIGUSR1)
        print(sleuth.faults.unregister(signal.SIGUSR1), sleuth.faults.unregister(signal.SIGUSR1))
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "True False\n"
    assert read(log) == f'Stack (most recent call first):\n  File "{path}", line 5 in <module>\n'


def test_register_chain_calls_previous_handler(tmp_path):
    path, r = run(tmp_path, """\
        import os, signal
        import sleuth.faults
        got = []
        signal.signal(signal.SIGUSR2, lambda *a: got.append("python handler"))
        sleuth.faults.register(signal.SIGUSR2, chain=True)
        os.kill(os.getpid(), signal.SIGUSR2)
        print(got)
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "['python handler']\n"
    assert re.search(r"^Current thread 0x[0-9a-f]{16} \(most recent call first\):", r.stderr, re.M)
    assert f'  File "{path}", line 6 in <module>\n' in r.stderr


def test_register_chain_to_default_action_terminates(tmp_path):
    path, r = run(tmp_path, """\
        import os, signal
        import sleuth.faults
        sleuth.faults.register(signal.SIGTERM, chain=True)
        os.kill(os.getpid(), signal.SIGTERM)
        print("survived")
        """)
    assert r.returncode == -signal.SIGTERM
    assert "survived" not in r.stdout
    assert f'  File "{path}", line 4 in <module>\n' in r.stderr


def test_enable_twice_updates_file_and_disable_is_idempotent(tmp_path):
    log = tmp_path / "log"
    path, r = run(tmp_path, f"""\
        import ctypes
        import sleuth.faults
        sleuth.faults.enable()
        sleuth.faults.enable(file=open({str(log)!r}, "w"), all_threads=False)
        sleuth.faults.disable(); sleuth.faults.disable()
        sleuth.faults.enable(file=open({str(log)!r}, "w"), all_threads=False)
        ctypes.string_at(0)
        """)
    assert r.returncode == -signal.SIGSEGV
    assert r.stderr == ""
    assert read(log).startswith("Fatal Python error: Segmentation fault\n\nStack (most recent")


def test_watchdog_reads_threads_that_come_and_go(tmp_path):
    """The watchdog reads thread states without the GIL while threads start
    and end under it: every report stays well-formed and nothing crashes."""
    log = tmp_path / "log"
    path, r = run(tmp_path, f"""\
        import threading
        import sleuth.faults
        f = open({str(log)!r}, "w")
        sleuth.faults.dump_later(0.002, repeat=True, file=f)
        def short(n):
            return sum(range(n))
        n = 0
        while n < 300 or open({str(log)!r}).read().count("Timeout") < 20:
            ts = [threading.Thread(target=short, args=(i,)) for i in range(8)]
            for t in ts: t.start()
            for t in ts: t.join()
            n += 1
        sleuth.faults.cancel_dump_later()
        print("ok")
        """, timeout=180)
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr
    text = read(log)
    for line in text.splitlines():
        # "<...>" lines: a thread state or frame that was freed while read.
        assert line == "" or line.startswith(("Timeout (", "Thread 0x", "  File \"", "  <", "<",
                                              "  ...")), line


def test_dump_c_stack_in_cpython_314s_form(tmp_path):
    with open(tmp_path / "c", "w") as f:
        sleuth.faults.dump_c_stack(f)
    text = read(tmp_path / "c")
    lines = text.splitlines()
    assert lines[0] == "Current thread's C stack trace (most recent call first):", text
    assert len(lines) > 3, text
    for line in lines[1:]:
        assert re.match(r'^  Binary file "[^"]+", at \S*\+0x[0-9a-f]+ \[0x[0-9a-f]+\]$', line) \
            or line == "  <truncated rest of calls>", line
    # The first frame shown is the caller of dump_c_stack, not sleuth's own code.
    assert "_faults" not in lines[1], text
    assert "_PyEval_EvalFrameDefault+0x" in text or "PyObject_Vectorcall" in text, text
