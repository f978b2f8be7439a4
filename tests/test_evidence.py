"""Evidence files: written by crashing child processes, loaded in another."""
import glob
import gzip
import json
import os
import textwrap

import pytest

import sleuth.evidence as ev

CRASH_MAIN = textwrap.dedent("""
    import sys
    import sleuth.evidence
    sleuth.evidence._autostart()

    class Item:
        def __init__(self, price):
            self.price = price

    class Hostile:
        def __repr__(self):
            raise ValueError("no repr for you")

    def checkout(order, api_key):
        total = sum(i.price for i in order["items"])
        weird = Hostile()
        return total / order["discount"]

    def main():
        order = {"items": [Item(9.5), Item(3)], "discount": 0, "id": 42}
        checkout(order, "k-123")

    main()
""")

CRASH_THREAD = textwrap.dedent("""
    import sys, threading
    import sleuth.evidence
    sleuth.evidence._autostart()

    def work(n):
        limit = n * 2
        raise RuntimeError("worker failed")

    t = threading.Thread(target=work, args=(21,), name="worker-1")
    t.start()
    t.join()
    print("main continues")
    sys.exit(3)
""")


def run_both(py, tmp_path, source, evidence_dir=None, extra_env=None):
    """Run `source` without and with SLEUTH_EVIDENCE; return both results."""
    script = tmp_path / "prog.py"
    script.write_text(source)
    env = dict(extra_env or {})
    plain = py([str(script)], cwd=str(tmp_path), env=env)
    env["SLEUTH_EVIDENCE"] = str(evidence_dir or tmp_path / "evidence")
    with_ev = py([str(script)], cwd=str(tmp_path), env=env)
    return plain, with_ev


def only_file(directory):
    files = glob.glob(os.path.join(directory, "sleuth-evidence-*.json*"))
    assert len(files) == 1, files
    return files[0]


def innermost(tb):
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb


def test_main_thread_crash_same_stderr_and_status(py, tmp_path):
    plain, with_ev = run_both(py, tmp_path, CRASH_MAIN,
                              extra_env={"MY_SECRET_TOKEN": "s3cr3t",
                                         "DATABASE_URL": "postgres://u:pw@h/db",
                                         "HARMLESS": "yes"})
    assert plain.returncode == 1
    assert "ZeroDivisionError" in plain.stderr
    assert with_ev.returncode == plain.returncode
    path = only_file(tmp_path / "evidence")
    # The same stderr, then one line that says where the file went.
    assert with_ev.stderr == plain.stderr + f"sleuth: evidence saved to {path}\n"
    assert with_ev.stdout == plain.stdout
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"

    # Loaded here, in another process than the one that wrote it.
    e = ev.load(path)
    assert e.version == ev.FORMAT_VERSION == 1
    assert e.reason == "uncaught exception"
    assert e.exception.type_name == "ZeroDivisionError"
    assert str(e.exception) == "float division by zero"
    assert repr(e.exception) == "ZeroDivisionError('float division by zero')"
    tb = innermost(e.traceback)
    f = tb.tb_frame
    assert f.f_code.co_name == "checkout"
    assert f.f_code.co_qualname == "checkout"
    assert f.f_code.co_filename.endswith("prog.py")
    assert f.f_code.co_varnames == ("order", "api_key")
    assert f.f_code.co_argcount == 2
    assert tb.tb_lineno == f.f_lineno == 17
    assert tb.positions[0] == 17
    assert f.f_globals["__name__"] == "__main__"
    assert f.f_back.f_code.co_name == "main"
    assert f.f_back.f_back.f_code.co_name == "<module>"
    assert f.f_back.f_back.f_back is None
    loc = f.f_locals
    assert loc["api_key"] == "[redacted]"
    assert loc["total"] == 12.5
    assert repr(loc["weird"]) == "<repr failed: ValueError>"
    order = loc["order"]
    assert order["items"][0].price == 9.5
    assert order["items"][1].price == 3
    assert order["id"] == 42 and order["discount"] == 0
    assert len(order["items"]) == 2
    assert repr(order).startswith("{'items': [<__main__.Item object at 0x")
    assert order.__sleuth_type__ == "dict"
    assert order["items"][0].__sleuth_type__ == "__main__.Item"
    with pytest.raises(KeyError):
        order["nope"]
    assert "items" in order and "nope" not in order and 42 not in order
    assert 3 in order["items"][1].__sleuth_items__()[0]
    assert bool(order) and bool(order["items"])
    with pytest.raises(AttributeError, match="no captured attribute"):
        order["items"][0].weight
    # The environment.
    env = e.environment
    assert env["python"]["executable"]
    assert env["pid"] > 0 and env["argv"][0].endswith("prog.py")
    assert env["cwd"] == str(tmp_path)
    assert env["env"]["MY_SECRET_TOKEN"] == "[redacted]"
    assert env["env"]["DATABASE_URL"] == "[redacted]"
    assert env["env"]["HARMLESS"] == "yes"
    raw = open(path, encoding="utf-8").read()
    assert "s3cr3t" not in raw
    frames_part = json.dumps(json.loads(raw)["frames"])
    assert "k-123" not in frames_part      # (the source line that passes it is stored)
    # Source lines travel with the file.
    assert e.register_sources() >= 1
    import linecache
    assert linecache.getline(f.f_code.co_filename, 17).strip() == 'return total / order["discount"]'
    linecache.cache.pop(f.f_code.co_filename, None)
    # And `sleuth open` in yet another process.
    r = py(["-m", "sleuth", "open", path])
    assert r.returncode == 0, r.stderr
    assert 'return total / order["discount"]' in r.stdout
    assert "ZeroDivisionError: float division by zero" in r.stdout


def test_thread_crash_same_stderr_and_status(py, tmp_path):
    plain, with_ev = run_both(py, tmp_path, CRASH_THREAD)
    assert plain.returncode == 3
    assert "RuntimeError: worker failed" in plain.stderr
    path = only_file(tmp_path / "evidence")
    assert (with_ev.returncode, with_ev.stderr, with_ev.stdout) == \
        (plain.returncode, plain.stderr + f"sleuth: evidence saved to {path}\n", plain.stdout)
    e = ev.load(path)
    assert e.reason == "uncaught exception in thread worker-1"
    assert e.thread["name"] == "worker-1"
    f = innermost(e.traceback).tb_frame
    assert f.f_code.co_name == "work"
    assert f.f_locals == {"n": 21, "limit": 42}
    # The main thread's stack is among the other threads.
    names = [t["name"] for t in e.threads]
    assert "MainThread" in names
    main = e.threads[names.index("MainThread")]
    assert main["frame"] is main["frames"][-1]
    assert main["frames"][0].f_code.co_name == "<module>"


def test_unwritable_directory_one_line(py, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    plain, with_ev = run_both(py, tmp_path, CRASH_MAIN, evidence_dir=blocker / "sub")
    assert with_ev.returncode == plain.returncode == 1
    assert with_ev.stderr.startswith(plain.stderr)
    extra = with_ev.stderr[len(plain.stderr):]
    assert extra.count("\n") == 1
    assert extra.startswith("sleuth: could not write evidence file: ")


def test_disk_full_one_line(py, tmp_path):
    # RLIMIT_FSIZE makes write() fail with EFBIG past 2 KB, as a full disk
    # would fail it with ENOSPC; the partial file must not be left behind.
    limit = textwrap.dedent("""
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))
    """)
    plain, with_ev = run_both(py, tmp_path, limit + CRASH_MAIN)
    assert with_ev.returncode == plain.returncode == 1
    extra = with_ev.stderr[len(plain.stderr):]
    assert with_ev.stderr.startswith(plain.stderr) and extra.count("\n") == 1
    assert extra.startswith("sleuth: could not write evidence file: ")
    assert "File too large" in extra
    assert os.listdir(tmp_path / "evidence") == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only directory")
def test_read_only_directory_one_line(py, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        plain, with_ev = run_both(py, tmp_path, CRASH_MAIN, evidence_dir=ro)
    finally:
        ro.chmod(0o700)
    assert with_ev.returncode == plain.returncode == 1
    extra = with_ev.stderr[len(plain.stderr):]
    assert with_ev.stderr.startswith(plain.stderr) and extra.count("\n") == 1
    assert "Permission denied" in extra


def test_install_chains_and_uninstall(py, tmp_path):
    src = textwrap.dedent("""
        import sys, threading
        import sleuth.evidence as ev
        seen = []
        sys.excepthook = lambda *a: seen.append(a[0].__name__) or sys.__excepthook__(*a)
        before = sys.excepthook, threading.excepthook
        ev.install(sys.argv[1])
        ev.install(sys.argv[1], compress=True)   # replaces, never chains to itself
        assert sys.excepthook.previous is before[0]
        assert threading.excepthook.previous is before[1]
        assert ev.uninstall() is True
        assert (sys.excepthook, threading.excepthook) == before
        assert ev.uninstall() is False
        import os
        os.chdir(os.path.dirname(sys.argv[1]))
        ev.install(os.path.basename(sys.argv[1]), compress=True)
        assert sys.excepthook.directory == sys.argv[1]
        os.chdir("/")
        import atexit
        atexit.register(lambda: print("hooks:", seen))
        raise LookupError("x")
    """)
    script = tmp_path / "p.py"
    script.write_text(src)
    r = py([str(script), str(tmp_path / "ev")])
    assert r.returncode == 1, r.stderr
    assert "hooks: ['LookupError']" in r.stdout
    path = only_file(tmp_path / "ev")
    assert path.endswith(".json.gz")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    assert doc["format"] == "sleuth-evidence" and doc["version"] == 1
    assert ev.load(path).exception.type_name == "LookupError"


def test_autostart_compress_and_system_exit(py, tmp_path):
    script = tmp_path / "p.py"
    script.write_text(textwrap.dedent("""
        import sys, threading
        import sleuth.evidence
        print(sleuth.evidence._autostart())
        t = threading.Thread(target=sys.exit, args=(5,))   # SystemExit: not evidence
        t.start(); t.join()
        if sys.argv[1] == "raise":
            raise OSError("disk on fire")
        sys.exit(4)
    """))
    env = {"SLEUTH_EVIDENCE": str(tmp_path / "ev"), "SLEUTH_EVIDENCE_COMPRESS": "1"}
    r = py([str(script), "exit"], env=env)
    assert (r.returncode, r.stdout, r.stderr) == (4, "True\n", "")
    assert not os.path.exists(tmp_path / "ev") or os.listdir(tmp_path / "ev") == []
    r = py([str(script), "raise"], env=env)
    path = only_file(tmp_path / "ev")
    assert r.returncode == 1
    assert r.stderr.endswith(f"OSError: disk on fire\nsleuth: evidence saved to {path}\n")
    assert path.endswith(".json.gz")
    assert ev.load(path).exception.type_name == "OSError"


def test_announce(tmp_path, capsys):
    try:
        raise ValueError("x")
    except ValueError:
        path = ev.capture(path=tmp_path / "a.json", announce=True)
    assert capsys.readouterr().err == f"sleuth: evidence saved to {path}\n"


def test_autostart_off_without_variable(monkeypatch):
    monkeypatch.delenv("SLEUTH_EVIDENCE", raising=False)
    assert ev._autostart() is False


def test_capture_on_demand_and_chain(tmp_path):
    def inner():
        raise KeyError("k")

    def outer():
        try:
            inner()
        except KeyError as e:
            raise RuntimeError("wrapped") from e

    try:
        outer()
    except RuntimeError:
        path = ev.capture(path=tmp_path / "one.json")
    assert path == str(tmp_path / "one.json")
    e = ev.load(path)
    assert e.reason == "capture"
    exc = e.exception
    assert exc.type_name == "RuntimeError"
    assert exc.__cause__.type_name == "KeyError"
    assert exc.__cause__ is exc.__context__
    assert exc.__suppress_context__ is True
    assert innermost(exc.__cause__.__traceback__).tb_frame.f_code.co_name == "inner"
    assert e.exceptions[0] is exc
    summary = e.summary()
    assert "KeyError: 'k'\n\nThe above exception was the direct cause of the following " \
        "exception:\n\nTraceback (most recent call last):\n" in summary
    assert summary.index("in inner") < summary.index("RuntimeError: wrapped")
    # The test function and pytest's callers are on the stack too.
    f = e.traceback.tb_frame
    assert f.f_code.co_name == "test_capture_on_demand_and_chain"
    assert f.f_back is not None
    assert "pytest" in e.environment["packages"]


def test_capture_groups_and_notes(tmp_path):
    try:
        try:
            raise ValueError("a")
        except ValueError as v:
            v.add_note("note on a")
            raise ExceptionGroup("grp", [v, TypeError("b")])
    except ExceptionGroup as g:
        path = ev.capture(g, tmp_path / "g.json")
    exc = ev.load(path).exception
    assert exc.type_name == "ExceptionGroup"
    assert [m.type_name for m in exc.exceptions] == ["ValueError", "TypeError"]
    assert exc.exceptions[0].__notes__ == ["note on a"]
    assert not hasattr(exc.exceptions[1], "__notes__")
    assert exc.exceptions[1].__traceback__ is None


def test_capture_without_exception_is_the_stack(tmp_path):
    here = 1
    path = ev.capture(path=tmp_path / "s.json")
    e = ev.load(path)
    assert e.exception is None
    assert e.stack[-1].f_code.co_name == "test_capture_without_exception_is_the_stack"
    assert e.stack[-1].f_locals["here"] == 1
    assert innermost(e.traceback).tb_frame is e.stack[-1]


def test_capture_never_raises(tmp_path, capsys):
    try:
        raise ValueError("x")
    except ValueError:
        assert ev.capture(path=tmp_path / "missing" / "dir" / "f.json") is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sleuth: could not write evidence file: ")
    with pytest.raises(TypeError):
        ev.capture(exc=42)


def test_capture_json_is_data():
    try:
        raise ValueError("x")
    except ValueError as e:
        doc = json.loads(ev.capture_json(e))
    assert doc["format"] == "sleuth-evidence"
    assert set(doc) >= {"version", "exception", "exceptions", "frames", "threads",
                        "environment", "sources", "limits", "truncated"}


class Hostile:
    def __repr__(self):
        while True:
            pass


def test_large_stack_stays_under_one_megabyte(tmp_path):
    big = [0] * 12_500_000          # a 100 MB list (8-byte pointers)
    blob = "x" * 1_000_000

    def frame(depth):
        # 50 locals per frame, some huge, one hostile.
        ns = {f"v{i}": (big if i % 10 == 0 else blob if i % 10 == 1 else
                        {"k": list(range(30)), "i": i}) for i in range(48)}
        # One hostile object per frame: one object's repr runs only once
        # per capture (its text is reused), so 100 of them make 100 reprs.
        ns["h"] = Hostile()
        ns["depth"] = depth
        if depth == 0:
            raise RuntimeError("bottom")
        return _call(frame, depth - 1, ns)

    try:
        frame(99)
    except RuntimeError:
        path = ev.capture(path=tmp_path / "big.json")      # default budgets
    assert os.path.getsize(path) < 1_000_000
    e = ev.load(path)
    assert e.truncated
    f = innermost(e.traceback).tb_frame
    assert f.f_locals["depth"] == 0
    assert f.f_back.f_code.co_name == "_call"
    assert len(f.f_back.f_locals) == 50      # the innermost frames keep every local
    assert repr(f.f_back.f_locals["h"]) == "<repr timed out>"
    assert repr(f.f_back.f_locals["v0"]).endswith(", ...]")
    # 100 hanging reprs at 0.1 s each would take 10 s: the batch's 2 s of
    # user-repr time runs out and the rest are skipped.
    texts = {repr(fr.f_locals["h"]) for fr in e.frames if "h" in fr.f_locals}
    assert "<repr skipped: time budget spent>" in texts


def _call(fn, depth, ns):
    # Keep the namespace alive as 50 real locals of this frame.
    v0, v1, v2, v3, v4, v5, v6, v7, v8, v9 = (ns[f"v{i}"] for i in range(10))
    w0, w1, w2, w3, w4, w5, w6, w7, w8, w9 = (ns[f"v{i}"] for i in range(10, 20))
    x0, x1, x2, x3, x4, x5, x6, x7, x8, x9 = (ns[f"v{i}"] for i in range(20, 30))
    y0, y1, y2, y3, y4, y5, y6, y7, y8, y9 = (ns[f"v{i}"] for i in range(30, 40))
    z0, z1, z2, z3, z4, z5, h = tuple(ns[f"v{i}"] for i in range(40, 46)) + (ns["h"],)
    return fn(depth)


def test_recursion_error_capture(tmp_path):
    def r(n):
        return r(n + 1)
    try:
        r(0)
    except RecursionError:
        path = ev.capture(path=tmp_path / "rec.json")
    e = ev.load(path)
    assert os.path.getsize(path) < 1_000_000
    tb = innermost(e.traceback)
    assert tb.tb_frame.f_code.co_name == "r"


def test_load_many_times_no_growth(tmp_path):
    try:
        raise ValueError("x")
    except ValueError:
        path = ev.capture(path=tmp_path / "x.json")
    for _ in range(10):
        e = ev.load(path)
        assert e.exception.type_name == "ValueError"


def test_minified_source_stays_bounded(tmp_path):
    # One 3 MB line of code on the stack: the file still stays under 1 MB.
    src = tmp_path / "mini.py"
    src.write_text('x = "' + "a" * 3_000_000 + '"; raise ValueError("minified")\n')
    code = compile(src.read_text(), str(src), "exec")
    try:
        exec(code, {})
    except ValueError:
        path = ev.capture(path=tmp_path / "m.json")
    assert os.path.getsize(path) < 1_000_000
    e = ev.load(path)
    assert e.truncated
    assert str(e.exception) == "minified"
