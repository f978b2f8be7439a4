"""sleuth.faults on real crashes: every case runs in a child process and is
checked on its stderr and its exit status (the signal must be re-raised)."""
import os
import re
import signal
import sys
import textwrap

import pytest

from conftest import SANITIZED, run_python

HEX = re.compile(r"0x[0-9a-f]{16}")
NATIVE = "\nCurrent thread's C stack trace (most recent call first):\n"
NAMES = "\nThread names:\n"
# One native frame, in CPython 3.14's form.
FRAME = r'^  Binary file "[^"\n]*", at '


def run_script(tmp_path, body, *, name="crash.py", env=None):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path, run_python([str(path)], env=env)


def python_part(stderr):
    """The faulthandler-format part of a report: what comes before sleuth's
    sections (thread names, C stack), thread ids normalised."""
    text = stderr.split(NATIVE)[0].split(NAMES)[0]
    return HEX.sub("0xTHREAD", text)


def names_part(stderr):
    assert NAMES in stderr, stderr
    return stderr.split(NAMES, 1)[1].split(NATIVE)[0]


def has_name(stderr, name, current):
    """The "Thread names:" section gives `name` to the (current) thread."""
    who = "Current thread" if current else "Thread"
    return re.search(rf'^  {who} 0x[0-9a-f]{{16}} "{re.escape(name)}"$', names_part(stderr), re.M)


def native_part(stderr):
    assert NATIVE in stderr, stderr
    return stderr.split(NATIVE, 1)[1]


def libpython_has_symbol(name):
    """True if this interpreter's binary or libpython carries a .symtab
    naming `name` (pyenv builds do; stripped distribution builds do not)."""
    import sysconfig
    paths = [sys.executable]
    libdir, ldlib = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("INSTSONAME")
    if libdir and ldlib:
        paths.append(os.path.join(libdir, ldlib))
    for p in paths:
        try:
            with open(os.path.realpath(p), "rb") as f:
                # No leading NUL: the linker may store a name as the tail
                # of a longer one in the string table.
                if name.encode() + b"\0" in f.read():
                    return True
        except OSError:
            pass
    return False


def frame_line(path, lineno, func):
    return f'  File "{path}", line {lineno} in {func}\n'


def test_segfault_through_ctypes(tmp_path):
    path, r = run_script(tmp_path, """\
        import ctypes
        import sleuth.faults
        sleuth.faults.enable()

        def crash_here():
            ctypes.string_at(0)

        crash_here()
        """)
    assert r.returncode == -signal.SIGSEGV, r.stderr
    assert r.stderr.startswith("Fatal Python error: Segmentation fault\n\n"), r.stderr
    # enable() imported threading to follow thread starts: names are known.
    assert re.search(r'^Current thread 0x[0-9a-f]{16} \(most recent call first\):$',
                     r.stderr, re.M), r.stderr
    assert has_name(r.stderr, "MainThread", current=True), r.stderr
    assert frame_line(path, 6, "crash_here") + frame_line(path, 8, "<module>") in r.stderr
    native = native_part(r.stderr)
    # The interrupted frame comes first, then libffi's call into it: our own
    # handler frames are not shown.
    assert re.match(FRAME + r"\S*\+0x[0-9a-f]+ \[0x[0-9a-f]+\]\n", native), native
    assert "ffi_call+0x" in native
    assert "fatal_handler" not in native and "_Unwind" not in native
    assert "_PyEval_EvalFrameDefault+0x" in native


def test_python_part_is_faulthandlers_format(tmp_path):
    """Same script, faulthandler vs sleuth: the Python part is identical."""
    body = """\
        import ctypes, sys, threading
        import sleuth.faults, faulthandler    # both: the same sys.modules
        started = threading.Event()
        def idle(ev):
            started.set()
            ev.wait()
        ev = threading.Event()
        t = threading.Thread(target=idle, args=(ev,), daemon=True)
        t.start()
        started.wait()
        if sys.argv[0].endswith("fh.py"):
            faulthandler.enable()
        else:
            sleuth.faults.enable()
        def crash_here():
            ctypes.string_at(0)
        crash_here()
        """
    fh_path, fh = run_script(tmp_path, body, name="fh.py")
    sl_path, sl = run_script(tmp_path, body, name="sl.py")
    assert fh.returncode == sl.returncode == -signal.SIGSEGV
    expected = fh.stderr.replace(str(fh_path), str(sl_path))
    # The list of extension modules that are not the standard library's
    # included: sleuth's own two.
    assert "\nExtension modules: sleuth._sleuth, sleuth._faults (total: 2)\n" in expected
    got = python_part(sl.stderr)
    assert HEX.sub("0xTHREAD", expected) == got
    assert has_name(sl.stderr, "Thread-1 (idle)", current=False), sl.stderr


def test_abort(tmp_path):
    path, r = run_script(tmp_path, """\
        import ctypes
        import sleuth.faults
        sleuth.faults.enable()
        ctypes.CDLL(None).abort()
        """)
    assert r.returncode == -signal.SIGABRT, r.stderr
    assert r.stderr.startswith("Fatal Python error: Aborted\n\n"), r.stderr
    assert frame_line(path, 4, "<module>") in r.stderr
    native = native_part(r.stderr)
    assert re.search(r'^  Binary file "\S*libc\.so[^"]*", at abort\+0x[0-9a-f]+ \[', native, re.M), native


@pytest.mark.parametrize("crash", [
    "sleuth.faults._fatal_error_c_thread()",      # Py_FatalError in a C thread
    "import _testcapi; _testcapi.fatal_error(b'xyz')",
])
def test_cpython_fatal_error_is_reported_once(tmp_path, crash):
    """Py_FatalError() writes its own report (message, then the stacks), then
    aborts. faulthandler switches itself off first, so its user sees one
    report; sleuth's handler adds only its own sections after CPython's
    report, not a second "Fatal Python error: Aborted" with the same stacks.
    """
    if "_testcapi" in crash:
        pytest.importorskip("_testcapi")
    path, r = run_script(tmp_path, f"""\
        import sleuth.faults
        sleuth.faults.enable()
        {crash}
        """)
    assert r.returncode == -signal.SIGABRT, r.stderr
    assert r.stderr.startswith("Fatal Python error: "), r.stderr
    assert r.stderr.count("Fatal Python error") == 1, r.stderr
    assert "Aborted" not in r.stderr, r.stderr
    assert r.stderr.count(frame_line(path, 3, "<module>")) == 1, r.stderr
    assert has_name(r.stderr, "MainThread", current="_testcapi" in crash), r.stderr
    native = native_part(r.stderr)
    assert re.search(r", at _Py_FatalErrorFunc\+0x", native), native
    assert r.stderr.index(NAMES) < r.stderr.index(NATIVE)
    # A report to a file of its own is whole: CPython's went to stderr.
    log = tmp_path / "faults.log"
    path, r = run_script(tmp_path, f"""\
        import sleuth.faults
        f = open({str(log)!r}, "w")
        sleuth.faults.enable(f)
        {crash}
        """)
    assert r.returncode == -signal.SIGABRT, r.stderr
    assert r.stderr.count("Fatal Python error") == 1, r.stderr
    assert log.read_text().startswith("Fatal Python error: Aborted\n\n"), log.read_text()


def test_stack_overflow_is_reported(tmp_path):
    # Nested map() objects recurse in C (map_next -> map_next ...) with no
    # recursion check on any of 3.11-3.13: a reliable C stack overflow.
    path, r = run_script(tmp_path, """\
        import sleuth.faults
        sleuth.faults.enable()
        it = iter([1])
        for _ in range(1_000_000):
            it = map(abs, it)
        next(it)
        """)
    assert r.returncode == -signal.SIGSEGV, r.stderr
    assert r.stderr.startswith("Fatal Python error: Segmentation fault\n\n"), r.stderr
    assert frame_line(path, 6, "<module>") in r.stderr
    native = native_part(r.stderr)
    # The report is bounded: 64 native frames, then 3.14's truncation line.
    assert len(re.findall(FRAME, native, re.M)) == 64
    if libpython_has_symbol("map_next"):
        assert native.count(", at map_next+0x") > 50, native
    assert native.endswith("\n  <truncated rest of calls>\n"), native


@pytest.mark.skipif(sys.version_info < (3, 12), reason="3.11 has no dict watchers: sleuth "
                    "cannot hook thread start to give threads an alternate signal stack")
def test_stack_overflow_in_a_thread_is_reported(tmp_path):
    path, r = run_script(tmp_path, """\
        import threading
        import sleuth.faults
        sleuth.faults.enable()

        def deep():
            it = iter([1])
            for _ in range(1_000_000):
                it = map(abs, it)
            next(it)

        t = threading.Thread(target=deep, name="deep-one")
        t.start()
        t.join()
        """)
    assert r.returncode == -signal.SIGSEGV, r.stderr
    assert has_name(r.stderr, "deep-one", current=True), r.stderr
    assert re.search(r'^Current thread 0x[0-9a-f]{16} \(most recent call first\):\n'
                     + re.escape(frame_line(path, 9, "deep")), r.stderr, re.M), r.stderr
    assert len(re.findall(FRAME, native_part(r.stderr), re.M)) == 64


@pytest.mark.skipif(sys.version_info < (3, 12), reason="threads get alternate stacks on 3.12+ only")
@pytest.mark.skipif(SANITIZED, reason="ASan gives every thread an alternate signal stack of its "
                    "own, and sleuth leaves an existing one in place")
def test_thread_altstacks_come_and_go(tmp_path):
    """Each thread runs with an alternate stack of its own, given back when it
    ends: 100 threads one after another reuse the same one (no leak)."""
    path, r = run_script(tmp_path, """\
        import ctypes, threading
        import sleuth.faults
        sleuth.faults.enable()
        libc = ctypes.CDLL(None)
        class stack_t(ctypes.Structure):
            _fields_ = [("ss_sp", ctypes.c_void_p), ("ss_flags", ctypes.c_int),
                        ("ss_size", ctypes.c_size_t)]
        seen = []
        def probe():
            st = stack_t()
            libc.sigaltstack(None, ctypes.byref(st))
            seen.append((st.ss_sp, st.ss_flags, st.ss_size))
        for _ in range(100):
            t = threading.Thread(target=probe)
            t.start()
            t.join()
        main = stack_t()
        libc.sigaltstack(None, ctypes.byref(main))
        print(len({sp for sp, _, _ in seen}), {(f, n) for _, f, n in seen}, main.ss_sp in {sp for sp, _, _ in seen})
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "1 {(0, 262144)} False\n", r.stdout


def test_segfault_in_thread_that_released_the_gil(tmp_path):
    path, r = run_script(tmp_path, """\
        import ctypes, threading
        import sleuth.faults
        sleuth.faults.enable()
        libc = ctypes.CDLL(None)          # CDLL calls release the GIL
        libc.strlen.argtypes = [ctypes.c_void_p]

        def worker():
            libc.strlen(None)

        t = threading.Thread(target=worker, name="crasher")
        t.start()
        t.join()
        """)
    assert r.returncode == -signal.SIGSEGV, r.stderr
    # 3.12+ learn the names of threads started after enable() from a dict
    # watcher; 3.11 only knows the names that existed when enable() ran.
    if sys.version_info >= (3, 12):
        assert has_name(r.stderr, "crasher", current=True), r.stderr
    assert has_name(r.stderr, "MainThread", current=False), r.stderr
    m = re.search(r'^Current thread 0x[0-9a-f]{16} \(most recent call first\):\n'
                  r'((?:  .*\n)+)', r.stderr, re.M)
    assert m, r.stderr
    assert frame_line(path, 8, "worker") in m.group(1)
    assert "in _bootstrap_inner" in m.group(1)
    # The main thread is listed too, still in start() or already in join().
    assert re.search(r'^Thread 0x[0-9a-f]{16} \(most recent call first\):\n'
                     r'(?:  .*\n)*' + re.escape(f'  File "{path}", line ') + r"1[12] in <module>\n",
                     r.stderr, re.M), r.stderr
    assert "ffi_call+0x" in native_part(r.stderr)


def test_crash_during_garbage_collection(tmp_path):
    path, r = run_script(tmp_path, """\
        import ctypes, gc
        import sleuth.faults
        sleuth.faults.enable()

        class Finalized:
            def __del__(self):
                ctypes.string_at(0)

        def make_garbage():
            a = Finalized()
            a.cycle = a

        gc.disable()
        make_garbage()
        gc.collect()
        """)
    assert r.returncode == -signal.SIGSEGV, r.stderr
    assert re.search(r'^Current thread 0x[0-9a-f]{16} \(most recent call first\):\n'
                     r"  Garbage-collecting\n", r.stderr, re.M), r.stderr
    assert has_name(r.stderr, "MainThread", current=True), r.stderr
    assert frame_line(path, 7, "__del__") + frame_line(path, 15, "<module>") in r.stderr
    native = native_part(r.stderr)
    assert "_PyEval_EvalFrameDefault+0x" in native
    if libpython_has_symbol("gc_collect_main"):
        # A static function: named from libpython's .symtab, not by dladdr.
        assert re.search(FRAME + r"gc_collect_main\+0x[0-9a-f]+ \[", native, re.M), native


@pytest.mark.parametrize("signum,name", [
    # faulthandler's spelling of each version
    (signal.SIGFPE, "Floating-point exception" if sys.version_info >= (3, 13)
     else "Floating point exception"),
    (signal.SIGBUS, "Bus error"),
    (signal.SIGILL, "Illegal instruction"),
    (signal.SIGSEGV, "Segmentation fault"),
])
def test_each_fatal_signal_named_and_reraised(tmp_path, signum, name):
    path, r = run_script(tmp_path, f"""\
        import os
        import sleuth.faults
        sleuth.faults.enable(all_threads=False)
        os.kill(os.getpid(), {int(signum)})
        """)
    assert r.returncode == -signum, r.stderr
    assert r.stderr.startswith(f"Fatal Python error: {name}\n\nStack (most recent call first):\n"
                               + frame_line(path, 4, "<module>")), r.stderr


def test_previous_handler_runs_after_ours(tmp_path):
    """faulthandler enabled first: our report, then the re-raised signal
    reaches faulthandler's handler, which reports too."""
    path, r = run_script(tmp_path, """\
        import ctypes, faulthandler
        import sleuth.faults
        faulthandler.enable(all_threads=False)
        sleuth.faults.enable(all_threads=False)
        ctypes.string_at(0)
        """)
    assert r.returncode == -signal.SIGSEGV, r.stderr
    ours = r.stderr.index(NATIVE)
    theirs = r.stderr.index("Fatal Python error: Segmentation fault", ours)
    assert r.stderr.count("Fatal Python error: Segmentation fault") == 2
    assert ours < theirs


def test_disable_restores_previous_handler(tmp_path):
    path, r = run_script(tmp_path, """\
        import ctypes, faulthandler
        import sleuth.faults
        faulthandler.enable(all_threads=False)
        sleuth.faults.enable()
        assert sleuth.faults.is_enabled()
        sleuth.faults.disable()
        assert not sleuth.faults.is_enabled()
        ctypes.string_at(0)
        """)
    assert r.returncode == -signal.SIGSEGV, r.stderr
    assert r.stderr.count("Fatal Python error: Segmentation fault") == 1
    assert NATIVE not in r.stderr
    assert "\nStack (most recent call first):\n" in r.stderr    # faulthandler's report


def test_disabled_crash_is_plain(tmp_path):
    path, r = run_script(tmp_path, """\
        import ctypes
        import sleuth.faults
        sleuth.faults.enable()
        sleuth.faults.disable()
        ctypes.string_at(0)
        """)
    assert r.returncode == -signal.SIGSEGV
    assert "Fatal Python error" not in r.stderr


def test_native_off_and_report_to_file(tmp_path):
    log = tmp_path / "report.txt"
    path, r = run_script(tmp_path, f"""\
        import ctypes
        import sleuth.faults
        f = open({str(log)!r}, "w")
        sleuth.faults.enable(file=f, native=False)
        ctypes.string_at(0)
        """)
    assert r.returncode == -signal.SIGSEGV
    assert "Fatal Python error" not in r.stderr
    report = log.read_text()
    assert report.startswith("Fatal Python error: Segmentation fault\n\n")
    assert frame_line(path, 5, "<module>") in report
    assert NATIVE not in report


def test_report_to_file_descriptor(tmp_path):
    log = tmp_path / "report.txt"
    path, r = run_script(tmp_path, f"""\
        import ctypes, os
        import sleuth.faults
        fd = os.open({str(log)!r}, os.O_WRONLY | os.O_CREAT)
        sleuth.faults.enable(file=fd)
        ctypes.string_at(0)
        """)
    assert r.returncode == -signal.SIGSEGV
    report = log.read_text()
    assert frame_line(path, 5, "<module>") in report
    assert NATIVE in report


def test_invalid_frame_is_shown_and_not_followed(tmp_path):
    """Overwrite the type of a running frame's code object: the report says
    the frame is invalid and stops there instead of following it."""
    path, r = run_script(tmp_path, """\
        import ctypes, sys
        import sleuth.faults
        sleuth.faults.enable(all_threads=False)

        def victim():
            code = sys._getframe().f_code
            # ob_type sits after ob_refcnt: make the code object claim to be a float.
            ctypes.c_void_p.from_address(id(code) + ctypes.sizeof(ctypes.c_ssize_t)).value = id(float)
            ctypes.string_at(0)

        victim()
        """)
    assert r.returncode == -signal.SIGSEGV, r.stderr
    py = r.stderr.split(NATIVE)[0]
    assert "in string_at\n  <invalid frame: its code object is freed or unreadable>\n" in py, py
    assert "<module>" not in py


def test_autostart_from_environment(tmp_path):
    path, r = run_script(tmp_path, """\
        import ctypes
        import sleuth._faults
        print(sleuth._faults._autostart(), sleuth._faults.is_enabled(), flush=True)
        ctypes.string_at(0)
        """, env={"SLEUTH_FAULTS": "1"})
    assert r.stdout == "True True\n"
    assert r.returncode == -signal.SIGSEGV
    assert r.stderr.startswith("Fatal Python error: Segmentation fault\n")


@pytest.mark.parametrize("value", [None, "", "0"])
def test_autostart_off(tmp_path, value):
    env = dict(os.environ)
    env.pop("SLEUTH_FAULTS", None)
    if value is not None:
        env["SLEUTH_FAULTS"] = value
    r = run_python(["-c", "import sleuth._faults as f; print(f._autostart(), f.is_enabled())"],
                   env=env)
    assert r.stdout == "False False\n", r.stderr


def test_threads_crashing_together_give_one_report(tmp_path):
    """Re-entry guard: four threads fault at once; one complete report."""
    path, r = run_script(tmp_path, """\
        import ctypes, threading
        import sleuth.faults
        sleuth.faults.enable()
        libc = ctypes.CDLL(None)
        libc.strlen.argtypes = [ctypes.c_void_p]
        barrier = threading.Barrier(4)

        def worker():
            barrier.wait()
            libc.strlen(None)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        """)
    assert r.returncode == -signal.SIGSEGV, r.stderr
    assert r.stderr.count("Fatal Python error") == 1, r.stderr
    assert r.stderr.count(NATIVE) == 1
    # The report was finished: the native section runs to the bottom frame.
    # (a thread's outermost frame is libc's clone, not exported: "at +0x...").
    last = r.stderr.rstrip("\n").rsplit("\n", 1)[1]
    assert re.match(r'  Binary file "\S*libc\.so\.6", at \S* \[0x[0-9a-f]+\]$', last), r.stderr[-600:]
    assert r.stderr.count(f'  File "{path}", line 10 in worker\n') >= 1


def test_call_through_a_bad_function_pointer(tmp_path):
    """A jump to an address with no code: there is nothing to unwind from,
    so the report shows the bad address and the caller, and says so."""
    path, r = run_script(tmp_path, """\
        import ctypes
        import sleuth.faults
        sleuth.faults.enable(all_threads=False)
        ctypes.CFUNCTYPE(None)(8)()
        """)
    assert r.returncode == -signal.SIGSEGV, r.stderr
    assert frame_line(path, 4, "<module>") in r.stderr
    native = native_part(r.stderr)
    lines = native.splitlines()
    assert lines[0] == '  Binary file "<unknown>" [0x8]', native
    assert re.match(r'  Binary file "[^"]*libffi[^"]*", at \S+ \[0x[0-9a-f]+\]$', lines[1]), native
    assert lines[2] == "  <cannot unwind further: the faulting address has no unwind information>"


@pytest.mark.skipif(SANITIZED, reason="ASan reports a NULL read itself")
@pytest.mark.parametrize("helper,signum,name", [
    ("_sigsegv()", signal.SIGSEGV, "Segmentation fault"),
    ("_sigsegv(True)", signal.SIGSEGV, "Segmentation fault"),
    ("_read_null()", signal.SIGSEGV, "Segmentation fault"),
    ("_sigabrt()", signal.SIGABRT, "Aborted"),
    ("_sigfpe()", signal.SIGFPE, "Floating-point exception" if sys.version_info >= (3, 13)
     else "Floating point exception"),
])
def test_faulthandlers_crash_helpers(tmp_path, helper, signum, name):
    """faulthandler's private crash helpers exist (CPython's test_faulthandler
    crashes its children with them) and crash the way faulthandler's do."""
    path, r = run_script(tmp_path, f"""\
        import sleuth.faults
        sleuth.faults.enable(all_threads=False)
        sleuth.faults.{helper}
        """)
    assert r.returncode == -signum, r.stderr
    assert r.stderr.startswith(f"Fatal Python error: {name}\n\nStack (most recent call first):\n"
                               + frame_line(path, 3, "<module>")), r.stderr


@pytest.mark.parametrize("names", [
    None,                       # as the interpreter has it: the standard library's are left out
    "frozenset()",              # CPython's test_dump_ext_modules: every extension is listed
    "frozenset({'sys', '_io', 'sleuth._faults'})",
    "{'sys'}",                  # not a frozenset: faulthandler then leaves nothing out
])
def test_extension_modules_line_is_faulthandlers(tmp_path, names):
    """After the stacks, faulthandler lists the extension modules in
    sys.modules that are not in sys.stdlib_module_names, read at the time of
    the crash: sleuth writes the same line, in the same place, on the same
    crash of the same program."""
    body = f"""\
        import ctypes, sys, threading
        import sleuth.faults, faulthandler
        import _json, _decimal                  # standard extension modules
        if {names!r} is not None:
            sys.stdlib_module_names = eval({names!r})
        if sys.argv[0].endswith("fh.py"):
            faulthandler.enable(all_threads=False)
        else:
            sleuth.faults.enable(all_threads=False, c_stack=False)
        import _bisect                          # imported after enable()
        ctypes.string_at(0)
        """
    fh_path, fh = run_script(tmp_path, body, name="fh.py")
    sl_path, sl = run_script(tmp_path, body, name="sl.py")
    assert fh.returncode == sl.returncode == -signal.SIGSEGV
    want = re.findall(r"^Extension modules: .* \(total: \d+\)$", fh.stderr, re.M)
    got = re.findall(r"^Extension modules: .* \(total: \d+\)$", sl.stderr, re.M)
    assert len(want) == 1 and got == want, (fh.stderr, sl.stderr)
    listed = want[0].split(": ", 1)[1].rsplit(" (", 1)[0].split(", ")
    if names is None:
        assert listed == ["sleuth._sleuth", "sleuth._faults"]
    elif names == "frozenset()" or names == "{'sys'}":
        assert {"sys", "faulthandler", "_json", "_bisect", "sleuth._faults"} <= set(listed)
    else:
        assert "sys" not in listed and "sleuth._faults" not in listed and "_json" in listed
    # In faulthandler's place: right after the stack; the whole report is
    # faulthandler's (no sleuth section was asked for).
    assert python_part(sl.stderr) == HEX.sub(
        "0xTHREAD", fh.stderr.replace(str(fh_path), str(sl_path)))
