"""sleuth stacks against the interpreter's own view and against py-spy.

The target parks threads inside constructs whose frames are easy to get
wrong from outside — generators, coroutines under asyncio, comprehensions
(inlined in 3.12+), multi-line calls, a specialized __init__ call, except and with blocks, class bodies,
calls through C (map, sorted) — then records its own view of every thread
with sys._current_frames() and prints it. sleuth's reading of the same
process must match it frame for frame: function, file and line. The same
process is then read with `py-spy dump --json` (skipped when py-spy is not
installed or cannot attach) and the frames compared.
"""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from test_stacks import TARGETS, run_main, spawn, stop, target_python

LINES_SCRIPT = textwrap.dedent('''
    import asyncio, json, sys, threading, time
    ev = threading.Event()
    lock = threading.Lock()

    def gen():
        yield 1
        ev.wait()
        yield 2

    def use_gen():
        for _ in gen():
            pass

    async def inner():
        ev.wait()

    async def outer():
        await inner()

    def use_async():
        asyncio.run(outer())

    def use_comprehension():
        return [ev.wait() for _ in range(1)]

    def takes(a, b, c):
        return a

    def use_multiline():
        return takes(
            1,
            ev.wait(),
            3,
        )

    def use_except():
        try:
            1 / 0
        except ZeroDivisionError:
            ev.wait()

    def use_with():
        with lock:
            ev.wait()

    def use_class_body():
        class Body:
            ev.wait()

    def use_map():
        return list(map(lambda x: ev.wait(), [1]))

    def use_sorted():
        return sorted([2, 1], key=lambda x: ev.wait() or x)

    def use_nested():
        def level1():
            def level2():
                ev.wait()
            level2()
        level1()

    class Init:
        def __init__(self, block):
            if block:
                ev.wait()

    def use_init():
        # warm up so 3.13 specializes the call (an __init__ cleanup shim frame)
        for _ in range(100):
            Init(False)
        Init(True)

    targets = [use_init, use_gen, use_async, use_comprehension, use_multiline, use_except,
               use_with, use_class_body, use_map, use_sorted, use_nested]
    threads = [threading.Thread(target=f, name=f.__name__, daemon=True) for f in targets]
    for t in threads:
        t.start()

    def view():
        frames = sys._current_frames()
        out = {}
        for t in threads:
            f = frames.get(t.ident)
            stack = []
            while f is not None:
                stack.append([f.f_code.co_name, f.f_code.co_filename, f.f_lineno])
                f = f.f_back
            out[str(t.ident)] = stack
        return out

    # Wait until every thread sits in its blocking wait and two looks agree.
    last = None
    for _ in range(500):
        now = view()
        parked = all(s and s[0][0] == "wait" for s in now.values())
        if parked and now == last:
            break
        last = now
        time.sleep(0.02)
    print(json.dumps(now), flush=True)
    sys.stdin.readline()
''')


@pytest.fixture(scope="module", params=sorted(TARGETS))
def lines_target(request, tmp_path_factory):
    python = target_python(request.param)
    path = tmp_path_factory.mktemp("lines") / "lines.py"
    path.write_text(LINES_SCRIPT)
    p = spawn(python, str(path), ready=False)
    first = p.stdout.readline()
    try:
        p.view = json.loads(first)
    except ValueError:
        stop(p)
        raise AssertionError(f"target failed: {first!r}")
    p.version = request.param
    yield p
    stop(p)


def test_frames_match_the_interpreters_own_view(lines_target, capsys):
    status, out, err = run_main(capsys, "--json", "--pause", lines_target.pid)
    assert status == 0, err
    doc = json.loads(out)
    ours = {str(t["thread_id"]): t for t in doc["threads"]}
    assert len(lines_target.view) == 11
    for ident, expected in lines_target.view.items():
        t = ours[ident]
        got = [[fr["function"], fr["file"], fr["line"]] for fr in t["frames"]]
        assert got == expected, t["name"]


def _pyspy():
    exe = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    return exe if os.path.exists(exe) else None


def test_frames_match_py_spy(lines_target, capsys):
    exe = _pyspy()
    if not exe:
        pytest.skip("py-spy is not installed")
    r = subprocess.run([exe, "dump", "--json", "--pid", str(lines_target.pid)],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        pytest.skip(f"py-spy cannot attach here: {r.stderr.strip()[:200]}")
    theirs = {t["os_thread_id"]: t for t in json.loads(r.stdout)}
    status, out, err = run_main(capsys, "--json", lines_target.pid)
    assert status == 0, err
    doc = json.loads(out)
    compared = 0
    for t in doc["threads"]:
        if t["name"] == "MainThread":
            continue   # it ran on between the two reads
        spy = theirs[t["native_id"]]
        assert spy["thread_name"] == t["name"]
        spy_frames = [(f["name"], f["filename"], f["line"]) for f in spy["frames"]]
        our_frames = [(f["qualname"], f["file"], f["line"]) for f in t["frames"]]
        assert our_frames == spy_frames, t["name"]
        compared += 1
    assert compared == 11
