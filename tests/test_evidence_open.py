"""`sleuth open FILE`: good files, bad files, and the debugger hand-off."""
import gzip
import json
import os

import pytest

import sleuth._sleuth
import sleuth.evidence as ev


def make_evidence(tmp_path, name="good.json", **options):
    def inner(amount):
        raise ValueError(f"bad amount {amount}")
    try:
        inner(-3)
    except ValueError:
        return ev.capture(path=tmp_path / name, **options)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return make_evidence(tmp_path_factory.mktemp("ev"))


def sleuth_open(py, path, *extra):
    return py(["-m", "sleuth", "open", str(path), *extra])


def test_open_prints_summary(py, good):
    r = sleuth_open(py, good)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert "Traceback (most recent call last):" in r.stdout
    assert "ValueError: bad amount -3" in r.stdout
    assert 'in inner\n    raise ValueError(f"bad amount {amount}")\n' in r.stdout
    assert "Python: " in r.stdout and "Command line: " in r.stdout
    assert "Locals of inner:\n    amount = -3\n" in r.stdout


def test_open_gzip(py, tmp_path):
    path = make_evidence(tmp_path, "g.json.gz", compress=True)
    with open(path, "rb") as fh:
        assert fh.read(2) == b"\x1f\x8b"
    r = sleuth_open(py, path)
    assert r.returncode == 0, r.stderr
    assert "ValueError: bad amount -3" in r.stdout


def test_help(py):
    r = py(["-m", "sleuth", "open", "--help"])
    assert r.returncode == 0 and r.stdout.startswith("usage: sleuth open FILE")


def test_several_missing_files_one_line(py, tmp_path):
    r = py(["-m", "sleuth", "open", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == f"sleuth open: error: cannot read {str(tmp_path / 'a.json')!r}: No such file or directory\n"


@pytest.mark.parametrize("args", [[]])
def test_usage_errors(py, args):
    r = py(["-m", "sleuth", "open", *args])
    assert r.returncode == 2
    assert r.stderr.startswith("usage: sleuth open FILE")
    assert "Traceback" not in r.stderr


def bad_files(tmp_path, good):
    data = open(good, "rb").read()
    doc = json.loads(data)
    cases = {}

    def put(name, content):
        p = tmp_path / name
        p.write_bytes(content)
        cases[name] = p
    put("truncated.json", data[: len(data) // 2])
    put("corrupt.json", data.replace(b'"frames"', b'"fr\x00mes"', 1))
    put("empty.json", b"")
    put("binary.png", b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    put("foreign.json", json.dumps({"name": "not evidence", "version": 1}).encode())
    put("list.json", b"[1, 2, 3]")
    put("truncated.json.gz", gzip.compress(data)[:200])
    put("corrupt.json.gz", b"\x1f\x8b" + os.urandom(100))
    newer = dict(doc, version=99)
    put("newer.json", json.dumps(newer).encode())
    broken = json.loads(data)
    broken["frames"][0]["back"] = 10_000
    put("bad_index.json", json.dumps(broken).encode())
    cyc = json.loads(data)
    for i, f in enumerate(cyc["frames"]):
        f["back"] = (i + 1) % len(cyc["frames"])
    put("cycle.json", json.dumps(cyc).encode())
    wrong = json.loads(data)
    wrong["frames"][0]["lineno"] = "ten"
    put("wrong_type.json", json.dumps(wrong).encode())
    nest = b'{"format": "sleuth-evidence", "version": 1, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    put("deep.json", nest)
    return cases


def test_bad_files_one_line_status_2(py, tmp_path, good):
    cases = bad_files(tmp_path, good)
    cases["missing.json"] = tmp_path / "missing.json"
    (tmp_path / "no_evidence_here").mkdir()
    cases["a_directory_without_evidence"] = tmp_path / "no_evidence_here"
    for name, path in cases.items():
        r = sleuth_open(py, path)
        assert r.returncode == 2, (name, r.stdout, r.stderr)
        assert r.stdout == "", name
        assert r.stderr.count("\n") == 1, (name, r.stderr)
        assert r.stderr.startswith("sleuth open: error: "), (name, r.stderr)
        assert "Traceback" not in r.stderr, name


def test_bad_file_messages(py, tmp_path, good):
    cases = bad_files(tmp_path, good)
    msg = {name: sleuth_open(py, p).stderr for name, p in cases.items()
           if name in ("newer.json", "truncated.json", "foreign.json", "cycle.json",
                       "truncated.json.gz")}
    assert "version 99" in msg["newer.json"] and "version 1" in msg["newer.json"]
    assert "newer" in msg["newer.json"]
    assert "truncated or corrupt" in msg["truncated.json"]
    assert "not a sleuth evidence file" in msg["foreign.json"]
    assert "cycle" in msg["cycle.json"]
    assert "truncated gzip" in msg["truncated.json.gz"] or "corrupt gzip" in msg["truncated.json.gz"]
    r = sleuth_open(py, tmp_path / "missing.json")
    assert "cannot read" in r.stderr and "No such file" in r.stderr


def test_load_raises_evidence_error(tmp_path, good):
    for name, path in bad_files(tmp_path, good).items():
        with pytest.raises(ev.EvidenceError):
            ev.load(path)
    assert issubclass(ev.EvidenceError, ValueError)
    with pytest.raises(OSError):
        ev.load(tmp_path / "missing.json")


def test_hands_off_to_debugger_frontend(monkeypatch, good, capsys):
    calls = []

    def open_snapshot(exc, tb, environment, threads):
        calls.append((exc, tb, environment, threads))
        return 7
    import linecache
    monkeypatch.setattr(sleuth._sleuth, "open_snapshot", open_snapshot, raising=False)
    # main() registers the file's sources in linecache: keep this process's.
    monkeypatch.setattr(linecache, "cache", dict(linecache.cache))
    assert ev.main(["sleuth open", str(good)]) == 7
    (exc, tb, environment, threads), = calls
    assert str(exc) == "bad amount -3" and exc.__traceback__ is tb
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    assert frames[-1] == "inner"
    assert environment["pid"] > 0
    assert isinstance(threads, list)
    # The summary of what failed is printed first, then the prompt opens.
    assert "ValueError: bad amount -3" in capsys.readouterr().out


def test_snapshot_values_behave(good):
    e = ev.load(good)
    tb = e.traceback
    while tb.tb_next:
        tb = tb.tb_next
    f = tb.tb_frame
    assert f.f_locals == {"amount": -3}
    assert f.f_lasti >= 0 and tb.tb_lasti >= 0
    assert isinstance(f, ev.SnapshotFrame) and isinstance(f.f_code, ev.SnapshotCode)
    assert isinstance(tb, ev.SnapshotTraceback) and isinstance(e.exception, ev.SnapshotException)
    assert e.exception.args == ("bad amount -3",)
    assert e.exception.__context__ is None and e.exception.__cause__ is None
    assert f.f_trace is None and f.f_builtins == {}
    with pytest.raises(TypeError):
        ev.SnapshotFrame()


def test_stdlib_formats_snapshot_tracebacks_identically(tmp_path):
    # Location lines, source lines and position markers of a loaded file are
    # what the live traceback gave, on another "machine" (sources registered
    # from the file, not read from disk).
    import linecache
    import traceback

    def inner(d):
        return d["items"][3] + \
            1

    def outer():
        try:
            inner({"items": [1]})
        except IndexError as e:
            raise KeyError("k") from e
    try:
        outer()
    except KeyError as exc:
        live = traceback.format_tb(exc.__traceback__)
        live_cause = traceback.format_tb(exc.__cause__.__traceback__)
        path = ev.capture(path=tmp_path / "x.json")
    e = ev.load(path)
    saved = dict(linecache.cache)
    linecache.clearcache()
    try:
        assert e.register_sources() >= 1
        assert traceback.format_tb(e.traceback) == live
        assert traceback.format_tb(e.exception.__cause__.__traceback__) == live_cause
        assert "~~~~~~~~~~^^^" in "".join(live_cause) or "^" in "".join(live_cause)
        summary = e.summary()
        assert "".join(live_cause) in summary
    finally:
        linecache.cache.clear()
        linecache.cache.update(saved)


FUZZ = """
import json, sys, threading
import sleuth.evidence as ev

class Item:
    def __init__(self):
        self.price = 1.5

def inner(order, token):
    raise KeyError("k")

def make():
    try:
        try:
            inner({"items": [Item()], "n": 1}, "t")
        except KeyError as e:
            e.add_note("note")
            raise ExceptionGroup("g", [e, ValueError("v")]) from e
    except ExceptionGroup as g:
        box.append(ev.capture_json(g))

box = []
t = threading.Thread(target=make)      # a short stack: a small file
t.start(); t.join()
doc = json.loads(box[0])
doc["environment"]["env"] = {"A": "b"}
path = sys.argv[1]
REPLACEMENTS = [None, 1, -1, 10**30, "x", [], {}, [1], {"a": 1}, [[1, 2]], 1.5, True]

def attempt(d):
    with open(path, "w") as fh:
        json.dump(d, fh)
    try:
        ev.load(path).summary()
    except ev.EvidenceError:
        pass

def targets(d, depth=0):
    # every key of every object, the first item of every list
    if depth > 7:
        return
    if isinstance(d, dict):
        for k in list(d):
            yield d, k
            yield from targets(d[k], depth + 1)
    elif isinstance(d, list) and d:
        yield d, 0
        yield from targets(d[0], depth + 1)

count = 0
for container, key in list(targets(doc)):
    old = container[key]
    for rep in REPLACEMENTS:
        container[key] = rep
        attempt(doc)
        count += 1
    container[key] = old
    if isinstance(container, dict):
        del container[key]
        attempt(doc)
        container[key] = old
print("tried", count)
"""


def test_load_fuzzed_shapes_never_crash(py, tmp_path):
    # Every field of a real file replaced by values of other types, or
    # removed: loading either works or raises EvidenceError. In a child
    # process, because the failure mode this guards against is a crash.
    r = py(["-c", FUZZ, str(tmp_path / "f.json")], timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert int(r.stdout.split()[1]) > 500


def test_empty_containers_are_false(tmp_path):
    def f(empty, full):
        raise ValueError()
    try:
        f([], [None])
    except ValueError:
        path = ev.capture(path=tmp_path / "e.json")
    e = ev.load(path)
    tb = e.traceback
    while tb.tb_next:
        tb = tb.tb_next
    loc = tb.tb_frame.f_locals
    assert not loc["empty"] and len(loc["empty"]) == 0 and repr(loc["empty"]) == "[]"
    assert loc["full"] and None in loc["full"] and list(loc["full"]) == [None]


def test_open_folder_opens_newest_and_lists_the_others(py, tmp_path):
    paths = [make_evidence(tmp_path, f"e{i}.json") for i in range(3)]
    for i, p in enumerate(paths):            # e2 newest, e0 oldest
        os.utime(p, (1_700_000_000 + i * 60, 1_700_000_000 + i * 60))
    (tmp_path / "notes.txt").write_text("not evidence")
    r = sleuth_open(py, tmp_path)
    assert r.returncode == 0, r.stderr
    head = r.stdout.splitlines()
    assert head[0] == f"sleuth open: 3 evidence files, newest first; opening {str(paths[2])!r}"
    assert head[1].endswith(repr(str(paths[1]))) and head[2].endswith(repr(str(paths[0])))
    assert "ValueError: bad amount -3" in r.stdout
    # Several files on the command line: the same choice.
    r = py(["-m", "sleuth", "open", str(paths[0]), str(paths[2]), str(paths[1])])
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].endswith(f"opening {str(paths[2])!r}")


def test_open_refuses_what_is_not_a_regular_file(py, tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    r = sleuth_open(py, fifo)                 # would block forever if read
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == f"sleuth open: error: {str(fifo)!r} is not a regular file\n"
    empty = tmp_path / "empty"
    empty.mkdir()
    r = sleuth_open(py, empty)
    assert r.returncode == 2
    assert r.stderr == f"sleuth open: error: no evidence file (*.json, *.json.gz) in {str(empty)!r}\n"


def test_sleuth_run_evidence_says_where_the_file_went(py, tmp_path):
    script = tmp_path / "p.py"
    script.write_text("def f():\n    return 1 / 0\nf()\n")
    r = py(["-m", "sleuth", "run", "--evidence", str(tmp_path / "ev"), str(script)])
    (path,) = (tmp_path / "ev").iterdir()
    assert r.returncode == 1
    assert r.stderr.endswith(f"ZeroDivisionError: division by zero\nsleuth: evidence saved to {path}\n")


def test_summary_escapes_control_characters_from_the_file(py, tmp_path, good):
    """An evidence file is somebody else's data: escape sequences, CR, NUL
    and bidi controls in its text are shown escaped, never sent raw to the
    terminal (the summary that `sleuth open` prints before the prompt)."""
    doc = json.loads(open(good, "rb").read())
    evil = "A\x1b]0;pwned\x07B\x1b[2J\rC\x00D\u202eE\x9bF"
    doc["reason"] = "reason " + evil
    doc["environment"]["hostname"] = "host" + evil
    doc["environment"]["cwd"] = "/cwd" + evil
    def taint(node):          # every message and repr in the file
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("str", "repr") and isinstance(v, str):
                    node[k] = k + evil
                else:
                    taint(v)
        elif isinstance(node, list):
            for v in node:
                taint(v)
    taint(doc)
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(doc))
    r = sleuth_open(py, path, )
    summary = r.stdout.split("\n> ")[0]
    assert "reason A\\x1b]0;pwned\\x07B\\x1b[2J\\x0dC\\x00D\\u202eE\\x9bF" in summary, summary
    assert "strA\\x1b" in summary and "hostA\\x1b" in summary and "cwdA\\x1b" in summary
    for ch in "\x1b\x07\r\x00\u202e\x9b":
        assert ch not in summary, repr(ch)
