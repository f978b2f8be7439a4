"""`sleuth open` on files somebody else wrote: every field checked for its
type and range at load, documented limits (docs/evidence.md, "Limits"), one
line and status 2 for a bad file, and nothing from the file printed raw."""
import copy
import gzip
import json
import os
import resource
import subprocess
import sys
import zlib

import pytest

import sleuth.evidence as ev

from conftest import run_python, SANITIZED

# Characters a terminal acts on: none may come out of `sleuth open` raw.
EVIL = "A\x1b]0;pwned\x07B\x1b[2J\rC\x00D\x08E\u202eF\u2066G\x9bH\ud800I"
RAW = ["\x1b", "\x07", "\r", "\x00", "\x08", "\u202e", "\u2066", "\x9b", "\ud800"]


def make_doc(tmp_path):
    def inner(amount, label):
        items = [1, [2, 3], {"k": "v"}]
        raise ValueError(f"bad amount {amount}")
    try:
        inner(-3, "x")
    except ValueError:
        return json.loads(ev.capture_json())


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    return make_doc(tmp_path_factory.mktemp("doc"))


def write(tmp_path, d, name="f.json"):
    p = tmp_path / name
    p.write_text(json.dumps(d) if not isinstance(d, str) else d)
    return p


def sleuth_open(path, commands="", timeout=120, limit_as=None):
    def limits():
        if limit_as:
            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env.pop("PYTHONBREAKPOINT", None)
    return subprocess.run([sys.executable, "-m", "sleuth", "open", str(path)], input=commands,
                          capture_output=True, text=True, timeout=timeout, env=env,
                          errors="surrogateescape", preexec_fn=limits if limit_as else None)


def one_line_error(r, *parts):
    assert r.returncode == 2, (r.stdout[-2000:], r.stderr[-2000:])
    assert r.stderr.startswith("sleuth open: error: "), r.stderr[-2000:]
    assert r.stderr.count("\n") == 1, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    for part in parts:
        assert part in r.stderr, r.stderr
    return r.stderr


def innermost(d):
    return d["exceptions"][0]["traceback"][-1]["frame"]


# --- types ------------------------------------------------------------------

@pytest.mark.parametrize("value, kind", [(1.0, "a number with a fraction or an exponent"),
                                         (True, "true"), ("1", "a string"), (None, "null")])
def test_version_of_the_wrong_type_says_so(tmp_path, doc, value, kind):
    d = dict(doc, version=value)
    err = one_line_error(sleuth_open(write(tmp_path, d)))
    if value is None:
        assert "version is null" in err
    else:
        assert f"version is {kind}, not an integer" in err


@pytest.mark.parametrize("path, value, message", [
    (("frames", 0, "lineno"), "ten", "frames[0].lineno is a string, not an integer"),
    (("frames", 0, "name"), 5, "frames[0].name is an integer, not a string"),
    (("frames", 0, "locals"), [], "frames[0].locals is an array, not an object"),
    (("exceptions", 0, "str"), False, "exceptions[0].str is false, not a string"),
    (("exceptions", 0, "traceback", 0, "positions"), [1, 2], "has 2 items, not 4"),
    (("reason",), 7, "reason is an integer, not a string"),
    (("environment", "hostname"), {"a": 1}, "environment.hostname is an object, not a string"),
    (("environment", "argv"), ["a", 1], "environment.argv[1] is an integer, not a string"),
    (("threads",), {}, "threads is an object, not an array"),
    (("sources",), [], "sources is an array, not an object"),
])
def test_fields_of_the_wrong_type_are_named(tmp_path, doc, path, value, message):
    d = copy.deepcopy(doc)
    node = d
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    one_line_error(sleuth_open(write(tmp_path, d)), message)
    with pytest.raises(ev.EvidenceError, match=r"\A[^\n]*\Z"):
        ev.load(write(tmp_path, d))


def test_index_fields_are_checked(tmp_path, doc):
    d = copy.deepcopy(doc)
    d["exceptions"][0]["traceback"][0]["frame"] = 1.5
    one_line_error(sleuth_open(write(tmp_path, d)), "traceback[0].frame is a number")
    d["exceptions"][0]["traceback"][0]["frame"] = 10**30
    one_line_error(sleuth_open(write(tmp_path, d)), "traceback[0].frame is out of range")


# --- numbers that drive work ------------------------------------------------

def test_huge_end_line_is_refused_not_formatted(tmp_path, doc):
    # 3.13's traceback formatting read every line up to the end line: an end
    # line of 1e9 ran for minutes. The timeout is the guard, not a measure.
    d = copy.deepcopy(doc)
    for f in d["frames"]:
        f["positions"][1] = 1_000_000_000
    err = one_line_error(sleuth_open(write(tmp_path, d), timeout=60))
    assert "1000000000" in err and "10000000" in err
    d = copy.deepcopy(doc)
    entry = d["exceptions"][0]["traceback"][-1]
    entry["positions"][1] = entry["positions"][0] + 50_000
    err = one_line_error(sleuth_open(write(tmp_path, d), timeout=60))
    assert "over a limit: the instruction spans 50001 lines, at most 10000" in err


def test_huge_offsets_and_lines_are_refused(tmp_path, doc):
    d = copy.deepcopy(doc)
    d["frames"][0]["lasti"] = 2**40
    one_line_error(sleuth_open(write(tmp_path, d)), "frames[0].lasti is 1099511627776, out of range")
    d = copy.deepcopy(doc)
    first = next(iter(d["sources"]))
    d["sources"][first][0][0] = 9_000_000           # 9 million empty lines to pad
    d["sources"]["/other.py"] = [[9_000_000, ["x\n"]]]
    one_line_error(sleuth_open(write(tmp_path, d)), "sources is over a limit", "4000000")


def test_huge_lasti_positions_are_lazy(tmp_path, doc):
    # co_positions() of a large offset costs no memory proportional to it.
    d = copy.deepcopy(doc)
    d["exceptions"][0]["traceback"][-1]["lasti"] = 16_000_000
    e = ev.load(write(tmp_path, d))
    tb = e.traceback
    while tb.tb_next:
        tb = tb.tb_next
    it = tb.tb_frame.f_code.co_positions()
    assert next(it) == (None, None, None, None)


# --- limits -----------------------------------------------------------------

@pytest.fixture(scope="module")
def gzip_bomb(tmp_path_factory):
    # 1 GiB of JSON whitespace in about 1 MB of gzip.
    path = tmp_path_factory.mktemp("bomb") / "bomb.json.gz"
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (16 << 20)
    with open(path, "wb") as fh:
        fh.write(c.compress(b'{"format": "sleuth-evidence", "version": 1, "x": 1'))
        for _ in range(64):
            fh.write(c.compress(block))
        fh.write(c.compress(b"}") + c.flush())
    return path


def test_gzip_bomb_stops_at_the_limit_with_bounded_memory(gzip_bomb):
    assert os.path.getsize(gzip_bomb) < 4 << 20
    # 400 MB of address space: decompressing all of it at once cannot fit.
    r = sleuth_open(gzip_bomb, limit_as=None if SANITIZED else 400 << 20, timeout=120)
    one_line_error(r, "over a limit", "67108864 bytes (64 MiB)")
    with pytest.raises(ev.EvidenceError, match="over a limit"):
        ev.load(gzip_bomb)


def test_big_plain_file_is_refused(tmp_path):
    p = tmp_path / "big.json"
    with open(p, "wb") as fh:
        fh.write(b'{"format": "sleuth-evidence", "version": 1, "name": "')
        fh.write(b"f" * (100 << 20))                 # a 100 MB function name
        fh.write(b'"}')
    one_line_error(sleuth_open(p), "over a limit", "64 MiB")


def test_long_strings_and_names_are_refused(tmp_path, doc):
    d = copy.deepcopy(doc)
    d["frames"][0]["name"] = "f" * 2_000_000
    one_line_error(sleuth_open(write(tmp_path, d)), "a string of 2000000 characters",
                   "at most 1000000")
    d["frames"][0]["name"] = "f" * 5000
    one_line_error(sleuth_open(write(tmp_path, d)),
                   "frames[0].name is over a limit: 5000 characters, names have at most 4096")
    d = copy.deepcopy(doc)
    d["frames"][innermost(d)]["locals"]["x" * 5000] = {"type": "int", "repr": "1", "value": 1}
    one_line_error(sleuth_open(write(tmp_path, d)), "names have at most 4096")


def test_counts_are_limited(tmp_path, doc):
    d = copy.deepcopy(doc)
    d["frames"] += [dict(d["frames"][0], back=None)] * 10_001
    one_line_error(sleuth_open(write(tmp_path, d)), "frames is over a limit: ", "at most 10000")
    d = copy.deepcopy(doc)
    d["threads"] = [{"ident": i, "name": None, "frames": []} for i in range(1001)]
    one_line_error(sleuth_open(write(tmp_path, d)), "threads is over a limit: 1001 threads, at most 1000")
    d = copy.deepcopy(doc)
    d["frames"][0]["locals"] = {f"v{i}": {"repr": "1", "value": 1} for i in range(10_001)}
    one_line_error(sleuth_open(write(tmp_path, d)), "frames[0].locals is over a limit: 10001 locals")
    d = copy.deepcopy(doc)
    d["exceptions"] = [dict(d["exceptions"][0], cause=None, context=None)] * 1001
    one_line_error(sleuth_open(write(tmp_path, d)), "exceptions is over a limit: 1001 exceptions")


def test_nesting_depth_is_limited(tmp_path, doc):
    d = copy.deepcopy(doc)
    value = {"repr": "x", "value": 1}
    for _ in range(100):
        value = {"repr": "[...]", "items": [value]}
    d["frames"][0]["locals"] = {"deep": value}
    one_line_error(sleuth_open(write(tmp_path, d)), "nest more than 128 deep")
    text = '{"format": "sleuth-evidence", "version": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    one_line_error(sleuth_open(write(tmp_path, text)), "nest more than 128 deep")


def test_long_numbers_are_refused(tmp_path, doc):
    text = json.dumps(doc).replace('"version": 1', '"version": 1' + "0" * 5000, 1)
    one_line_error(sleuth_open(write(tmp_path, text)), "a number or word of 5001 characters")


# --- files that have nothing to debug, and other tracebacks that escaped ------

def test_exception_never_raised_is_one_line(tmp_path):
    p = ev.capture(exc=ValueError("never raised"), path=tmp_path / "n.json")
    r = sleuth_open(p)
    one_line_error(r, "nothing to debug")
    assert "ValueError: never raised" in r.stdout        # the summary still shows it


def test_exception_null_and_no_stack_is_one_line(tmp_path, doc):
    d = dict(doc, exception=None, stack=[])
    one_line_error(sleuth_open(write(tmp_path, d)), "nothing to debug")


def test_nul_in_a_file_name_is_refused(tmp_path, doc):
    d = copy.deepcopy(doc)
    d["frames"][0]["filename"] = "/srv/a\x00b.py"
    one_line_error(sleuth_open(write(tmp_path, d)), "frames[0].filename holds a NUL character")
    d = copy.deepcopy(doc)
    first = next(iter(d["sources"]))
    d["sources"]["/x\x00y.py"] = d["sources"][first]
    one_line_error(sleuth_open(write(tmp_path, d)), "holds a NUL character")


@pytest.mark.parametrize("content, message", [
    (b"\x1f\x8b\x08\x00" + b"\x00" * 20, "gzip"),
    (b"{\"format\": \"sleuth-evidence\", ", "invalid JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b"\"text\"", "not a JSON object"),
    (b"{\"format\": \"sleuth-evidence\", \"version\": 1}", "frames is missing"),
])
def test_bad_files_are_one_line(tmp_path, content, message):
    p = tmp_path / "b.json"
    p.write_bytes(content)
    one_line_error(sleuth_open(p), message)


def test_truncated_gzip_is_one_line(tmp_path, doc):
    data = gzip.compress(json.dumps(doc).encode())
    p = tmp_path / "t.json.gz"
    p.write_bytes(data[: len(data) - 30])
    one_line_error(sleuth_open(p), "gzip")
    p.write_bytes(data + b"garbage")
    one_line_error(sleuth_open(p), "gzip")
    p.write_bytes(data + gzip.compress(b" "))             # a second member is fine
    r = sleuth_open(p, "q\n")
    assert r.returncode == 0, r.stderr


# --- nothing printed raw ------------------------------------------------------

def taint(node, evil=EVIL):
    """Every string of the document, keys of locals and attrs included, with
    terminal controls added; file names keep working (no NUL in them)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            out[k] = taint(v, evil)
        return out
    if isinstance(node, list):
        return [taint(v, evil) for v in node]
    if isinstance(node, str):
        return node + evil
    return node


def evil_doc(doc):
    d = copy.deepcopy(doc)
    keep = {k: d[k] for k in ("format",)}
    d = taint(d)
    d.update(keep)
    fn_evil = EVIL.replace("\x00", "")
    renames = {}
    for f in d["frames"]:
        f["filename"] = f["filename"][: -len(EVIL)] + fn_evil
        renames[f["filename"][: -len(fn_evil)]] = f["filename"]
        f["globals"] = {"__name__": "m" + EVIL, "__file__": f["filename"]}
        if f.get("locals"):
            f["locals"] = {k + EVIL: v for k, v in f["locals"].items()}
    d["sources"] = {renames.get(k, k): v for k, v in doc["sources"].items()}
    for k, ranges in d["sources"].items():
        d["sources"][k] = [[first, [line.rstrip("\n") + "  # " + EVIL + "\n" for line in lines]]
                           for first, lines in ranges]
    d["threads"] = [{"ident": 1, "name": "worker" + EVIL, "frames": [0]}]
    return d


def test_session_output_is_escaped(tmp_path, doc):
    d = evil_doc(doc)
    f = d["frames"][innermost(d)]
    local = next(k for k in f["locals"] if k.startswith("amount"))
    assert local.startswith("amount")
    p = write(tmp_path, d)
    cmds = "where\nlist\nll\nargs\np locals()\nexceptions\nenv\nup\ndown\nq\n"
    r = sleuth_open(p, cmds)
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    for ch in RAW:
        assert ch not in out, (repr(ch), out[:3000])
    # What was there is shown, escaped: sources, names, reprs, exception text.
    assert "\\x1b]0;pwned\\x07B\\x1b[2J\\x0dC" in out
    assert "\\u202eF\\u2066G\\x9bH\\ud800I" in out
    assert "# A\\x1b]0;pwned" in out                     # a source line
    assert "inner" + "A\\x1b" in out                     # a function name
    assert "bad amount -3A\\x1b" in out                  # the exception text
    assert "'amountA\\x1b" in out                        # a local's name (p locals())


def test_summary_escapes_every_field(tmp_path, doc):
    r = sleuth_open(write(tmp_path, evil_doc(doc)))
    assert r.returncode == 0, r.stderr
    for ch in RAW:
        assert ch not in r.stdout, repr(ch)
    assert r.stdout.count("\\x1b]0;pwned") >= 6       # reason, host, cwd, names, text, ...


def test_error_lines_are_escaped(tmp_path, doc):
    d = copy.deepcopy(doc)
    d["frames"][0]["name"] = "x\x1b[2J" * 2000
    r = sleuth_open(write(tmp_path, d, "a\x1b[31mb.json"))
    err = one_line_error(r, "names have at most 4096")
    assert "\x1b" not in err


def test_interact_output_is_escaped(tmp_path, doc):
    d = copy.deepcopy(doc)
    d["frames"][innermost(d)]["locals"]["v"] = {"type": "T" + EVIL, "repr": "R" + EVIL,
                                                "len": 1, "attrs": {}}
    r = sleuth_open(write(tmp_path, d), "interact\nv\nv.nope\n")
    out = r.stdout + r.stderr
    for ch in RAW:
        assert ch not in out, (repr(ch), out[-3000:])
    assert "RA\\x1b]0;pwned" in out                       # the repr, shown by the console
    assert "has no captured attribute 'nope'" in out     # its traceback, escaped too


# --- the redactions summary ---------------------------------------------------

def test_summary_shows_redactions_at_the_top_escaped(tmp_path, doc):
    d = copy.deepcopy(doc)
    d["redactions"] = {"count": 3, "kinds": {"name": 2, "jwt" + EVIL: 1}}
    r = sleuth_open(write(tmp_path, d))
    assert r.returncode == 0, r.stderr
    for ch in RAW:
        assert ch not in r.stdout, repr(ch)
    lines = r.stdout.splitlines()
    assert lines[1].startswith("Reason: ")
    assert lines[2].startswith("Redacted: 3 places (name 2, jwtA\\x1b]0;pwned\\x07B"), lines[2]
    assert lines[2].endswith("\\ud800I 1)"), lines[2]
    assert ev.load(str(write(tmp_path, d, "g.json"))).redactions["count"] == 3


def test_summary_of_a_file_without_redactions(tmp_path, doc):
    d = copy.deepcopy(doc)
    d["redactions"] = {"count": 0, "kinds": {}}
    r = sleuth_open(write(tmp_path, d))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[2] == "Redacted: nothing"
    d.pop("redactions")        # files of older sleuths: no line, no error
    r = sleuth_open(write(tmp_path, d))
    assert r.returncode == 0, r.stderr
    assert "\nRedacted: " not in r.stdout
    assert ev.load(str(write(tmp_path, d, "g.json"))).redactions is None


@pytest.mark.parametrize("value, message", [
    ([], "redactions is an array, not an object"),
    ({"kinds": {}}, "redactions.count is missing"),
    ({"count": "3", "kinds": {}}, "redactions.count is a string, not an integer"),
    ({"count": -1, "kinds": {}}, "redactions.count is -1, out of range"),
    ({"count": 1}, "redactions.kinds is missing"),
    ({"count": 1, "kinds": []}, "redactions.kinds is an array, not an object"),
    ({"count": 1, "kinds": {"name": 1.5}}, "redactions.kinds[0] is a number with a fraction"),
    ({"count": 1, "kinds": {"name": True}}, "redactions.kinds[0] is true, not an integer"),
    ({"count": 1, "kinds": {f"k{i}": 1 for i in range(65)}},
     "redactions.kinds is over a limit: 65 kinds, at most 64"),
    ({"count": 1, "kinds": {"k" * 5000: 1}}, "names have at most 4096"),
])
def test_redactions_of_the_wrong_kind_are_one_line(tmp_path, doc, value, message):
    d = dict(doc, redactions=value)
    one_line_error(sleuth_open(write(tmp_path, d)), message)
