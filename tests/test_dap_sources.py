"""Sources over DAP (the debuggee's server): `loadedSources`, `source` by
path and by sourceReference (frames whose code has no file on disk: exec'd
strings, zip imports, code registered in linecache), and the `continued`
events that follow each resume, as debugpy sends them."""
import os
import sys
import textwrap
import zipfile

import pytest

from test_dap_server import Debuggee

PROG = textwrap.dedent("""\
    import linecache, sys
    import helper
    def cb(v):
        w = v * 2
        return w
    ns = {"cb": cb}
    exec(compile("def f(x):\\n    y = x + 1\\n    return cb(y)\\n", "<string>", "exec"), ns)
    gen = "def h(x):\\n    return cb(x)  # generated\\n"
    linecache.cache["<gen-1>"] = (len(gen), None, gen.splitlines(True), "<gen-1>")
    exec(compile(gen, "<gen-1>", "exec"), ns)
    sys.path.insert(0, "zipped.zip")
    import zipmod
    ns["f"](1)
    ns["h"](2)
    zipmod.z(cb)
    helper.twice(3)
    print("end")
    """)
CB = 4          # `w = v * 2` in cb()
HELPER = textwrap.dedent("""\
    def twice(n):
        m = n * 2
        return m
    """)
ZIPMOD = "def z(cb):\n    return cb(7)  # zipped\n"


def start(tmp_path, *lines, client_id=None, go=True):
    (tmp_path / "helper.py").write_text(HELPER)
    (tmp_path / "unused.py").write_text("x = 1\n")
    with zipfile.ZipFile(tmp_path / "zipped.zip", "w") as z:
        z.writestr("zipmod.py", ZIPMOD)
    d = Debuggee(tmp_path, PROG, attach=False)
    init = {"adapterID": "test", "linesStartAt1": True}
    if client_id:
        init["clientID"] = client_id
    r = d.c.request("initialize", **init)
    assert r["success"], r
    assert r["body"]["supportsLoadedSourcesRequest"] is True
    d.c.wait_event("initialized")
    assert d.c.request("attach")["success"]
    d.bps(*lines)
    if go:
        d.go()
    return d


def frames_of(d, n):
    tid = d.stopped(n)["threadId"]
    return tid, d.top(tid)


def source(d, **args):
    return d.c.request("source", **args)


def end(d, tid):
    d.bps()
    assert d.c.request("continue", threadId=tid)["success"]
    rc, out, err = d.finish()
    assert rc == 0 and out.endswith("end\n"), (out, err)


# --- loadedSources -------------------------------------------------------------


def test_loaded_sources_are_the_py_files_of_the_modules_loaded_now(tmp_path):
    d = start(tmp_path, CB)
    tid, _ = frames_of(d, 1)
    r = d.c.request("loadedSources")
    assert r["success"], r
    srcs = r["body"]["sources"]
    paths = [s["path"] for s in srcs]
    assert str(d.path) in paths
    assert str(tmp_path / "helper.py") in paths
    assert str(tmp_path / "unused.py") not in paths          # never imported
    assert os.path.join(os.path.dirname(os.__file__), "linecache.py") in paths
    assert len(paths) == len(set(paths))
    assert all(p.endswith(".py") and os.path.isfile(p) for p in paths)   # no .so, no zip members
    assert all(s["name"] == os.path.basename(s["path"]) for s in srcs)
    end(d, tid)


def test_loaded_sources_while_the_program_runs(tmp_path):
    # answered by the server's own thread: no thread needs to be stopped
    d = start(tmp_path)
    r = d.c.request("loadedSources")
    assert r["success"], r
    assert all(s["path"].endswith(".py") for s in r["body"]["sources"])
    d.finish()


# --- source by path --------------------------------------------------------------


def test_source_by_path_is_the_file_text_as_python_decodes_it(tmp_path):
    d = start(tmp_path, CB)
    tid, _ = frames_of(d, 1)
    r = source(d, source={"path": str(d.path)}, sourceReference=0)
    assert r["success"], r
    assert r["body"]["content"] == PROG
    # a coding cookie on line 2 (line 1 a comment), a BOM, bytes that are not UTF-8
    (tmp_path / "latin.py").write_bytes("#!/usr/bin/python\n# -*- coding: latin-1 -*-\ns = 'café'\n"
                                        .encode("latin-1"))
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbfs = '\xc3\xa9'\n")
    (tmp_path / "bad.py").write_bytes(b"s = '\xff'\n")
    (tmp_path / "late.py").write_bytes("x = 1\n# coding: latin-1\ns = 'é'\n".encode("utf-8"))
    got = {n: source(d, source={"path": str(tmp_path / n)}) for n in
           ("latin.py", "bom.py", "bad.py", "late.py")}
    assert got["latin.py"]["body"]["content"].endswith("s = 'café'\n")
    assert got["bom.py"]["body"]["content"] == "s = 'é'\n"
    assert got["bad.py"]["body"]["content"] == "s = '\ufffd'\n"
    assert got["late.py"]["body"]["content"].endswith("s = 'é'\n")   # a cookie on line 3 counts not
    end(d, tid)


def test_source_by_path_refuses_what_it_cannot_send(tmp_path):
    d = start(tmp_path, CB)
    tid, _ = frames_of(d, 1)
    os.mkfifo(tmp_path / "fifo.py")      # opening it for reading must not wait for a writer
    r = source(d, source={"path": str(tmp_path / "fifo.py")})
    assert not r["success"] and "not a regular file" in r["message"], r
    r = source(d, source={"path": str(tmp_path)})
    assert not r["success"] and "not a regular file" in r["message"], r
    r = source(d, source={"path": str(tmp_path / "missing.py")})
    assert not r["success"] and "No such file" in r["message"], r
    r = source(d, source={"path": "a\x00b"})
    assert not r["success"] and "NUL" in r["message"], r
    # bigger than one message can carry: by bytes, and by its JSON form
    # (control characters are written as \\u00XX, six bytes each)
    (tmp_path / "huge.py").write_bytes(b"#" * (16 * 1024 * 1024))
    r = source(d, source={"path": str(tmp_path / "huge.py")})
    assert not r["success"] and "too big" in r["message"], r
    (tmp_path / "ctl.py").write_bytes(b"\x01" * (3 * 1024 * 1024))
    r = source(d, source={"path": str(tmp_path / "ctl.py")})
    assert not r["success"] and "too big" in r["message"] and "as JSON" in r["message"], r
    (tmp_path / "ctl_ok.py").write_bytes(b"\x01" * (1024 * 1024))
    r = source(d, source={"path": str(tmp_path / "ctl_ok.py")})
    assert r["success"] and r["body"]["content"] == "\x01" * (1024 * 1024)
    # bad arguments
    for args, msg in [({"source": "x"}, "'source' must be an object"),
                      ({"sourceReference": -1}, "must not be negative"),
                      ({"sourceReference": "1"}, "must be an integer"),
                      ({}, "missing argument"),
                      ({"source": {"path": 3}}, "'path' must be a string")]:
        r = source(d, **args)
        assert not r["success"] and msg in r["message"], (args, r)
    end(d, tid)


# --- source by sourceReference ---------------------------------------------------


def test_frames_without_a_file_get_a_source_reference(tmp_path):
    d = start(tmp_path, CB)
    # 1: cb <- f (exec'd "<string>": its text was not kept) <- <module>
    tid, frames = frames_of(d, 1)
    assert [f["name"] for f in frames] == ["cb", "f", "<module>"]
    cb, f, mod = frames
    assert cb["source"]["sourceReference"] == 0 and mod["source"]["sourceReference"] == 0
    ref = f["source"]["sourceReference"]
    assert ref > 0 and f["source"]["path"] == "<string>"
    r = source(d, source=f["source"], sourceReference=ref)
    assert not r["success"] and r["message"].startswith("no source for '<string>'"), r
    r = source(d, sourceReference=ref + 1000)
    assert not r["success"] and "unknown sourceReference" in r["message"], r
    assert d.c.request("continue", threadId=tid)["success"]
    # the reference died with the stop
    tid, frames = frames_of(d, 2)
    r = source(d, sourceReference=ref)
    assert not r["success"] and "unknown sourceReference" in r["message"], r
    # 2: cb <- h (registered in linecache by the program)
    h = frames[1]
    assert h["name"] == "h" and h["source"]["path"] == "<gen-1>"
    r = source(d, source=h["source"], sourceReference=h["source"]["sourceReference"])
    assert r["success"], r
    assert r["body"]["content"] == "def h(x):\n    return cb(x)  # generated\n"
    # the same reference in a second stackTrace of the same stop
    assert d.top(tid)[1]["source"]["sourceReference"] == h["source"]["sourceReference"]
    assert d.c.request("continue", threadId=tid)["success"]
    # 3: cb <- z (a module imported from a zip file: its loader has the text)
    tid, frames = frames_of(d, 3)
    z = frames[1]
    assert z["name"] == "z" and z["source"]["path"].endswith(os.path.join("zipped.zip", "zipmod.py"))
    r = source(d, sourceReference=z["source"]["sourceReference"])
    assert r["success"] and r["body"]["content"] == ZIPMOD, r
    end(d, tid)


def test_a_reference_while_no_thread_is_stopped_is_unknown(tmp_path):
    # answered by the server's thread (nothing to queue it for)
    d = start(tmp_path, go=False)
    r = source(d, sourceReference=100002)
    assert not r["success"] and "unknown sourceReference 100002" in r["message"], r
    d.go()
    d.finish()


# --- continued events ----------------------------------------------------------------


def events_between(d, start_index, upto="stopped"):
    """Event names from index start_index up to and including the next `upto`."""
    ev = d.c.wait_event(upto, after=start_index)
    evs = d.c.events[start_index:d.c.events.index(ev) + 1]
    return [e for e in evs if e["event"] not in ("output", "thread")]


@pytest.mark.parametrize("how", ["continue", "next", "stepIn", "stepOut"])
def test_continued_follows_each_resume(tmp_path, how):
    d = start(tmp_path, CB)
    tid, _ = frames_of(d, 1)
    n = len(d.c.events)
    seq = d.c.request_async(how, threadId=tid)
    evs = events_between(d, n)
    assert [e["event"] for e in evs] == ["continued", "stopped"]
    assert evs[0]["body"] == {"threadId": tid, "allThreadsContinued": False}
    # after the response (as debugpy sends it)
    resp = d.c.response(seq)
    assert resp["success"] and resp["seq"] < evs[0]["seq"]
    end(d, d.stopped(2)["threadId"])


def test_goto_sends_continued_then_stopped(tmp_path):
    d = start(tmp_path, CB)
    tid, _ = frames_of(d, 1)
    assert d.c.request("next", threadId=tid)["success"]
    assert d.top(d.stopped(2)["threadId"])[0]["line"] == CB + 1
    n = len(d.c.events)
    r = d.c.request("goto", threadId=tid, targetId=CB)
    assert r["success"], r["message"]
    evs = events_between(d, n)
    assert [e["event"] for e in evs] == ["continued", "stopped"]
    assert evs[0]["body"]["threadId"] == tid and evs[1]["body"]["reason"] == "goto"
    assert r["seq"] < evs[0]["seq"]
    end(d, tid)


def test_no_continued_for_visual_studio(tmp_path):
    # debugpy leaves them out for Visual Studio, which assumes that a step
    # resumes all threads and misbehaves when told
    d = start(tmp_path, CB, client_id="visualstudio")
    tid, _ = frames_of(d, 1)
    n = len(d.c.events)
    assert d.c.request("next", threadId=tid)["success"]
    assert [e["event"] for e in events_between(d, n)] == ["stopped"]
    end(d, d.stopped(2)["threadId"])
