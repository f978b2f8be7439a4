"""Capture under hostile objects: a __repr__ runs at most once per capture,
builtin reprs that cannot run user code are never skipped or timed, C heap
types are not shown as bogus attributes, and a __repr__ blocked in a system
call is interrupted when its time is up (on the main thread), without any
exception reaching the program."""
import functools
import json
import subprocess
import sys
import textwrap

import sleuth.evidence as ev
from sleuth.traceback import format_exception, safe_repr

PY = sys.executable


class Counting:
    """Its __repr__ mutates the object, as hostile reprs do."""
    calls = 0

    def __init__(self):
        self.seen = 0

    def __repr__(self):
        Counting.calls += 1
        self.seen += 1
        return f"Counting(seen={self.seen})"


class Hanging:
    def __repr__(self):
        while True:
            pass


def _raise_with(obj):
    holder = {"a": obj, "b": [obj, obj], "c": (obj, {"d": obj})}
    items = [obj] * 5

    def inner(x, y, z):
        w = [x, y, z, holder, items]
        raise ValueError("boom")
    try:
        inner(obj, obj, holder)
    except ValueError as e:
        return e


def test_mutating_repr_runs_once_per_capture():
    obj = Counting()
    exc = _raise_with(obj)
    Counting.calls = 0
    frames = json.dumps(json.loads(ev.capture_json(exc))["frames"])
    assert Counting.calls == 1
    assert frames.count("Counting(seen=1)") >= 5 and f"Counting(seen={2})" not in frames
    Counting.calls = 0
    text = "".join(format_exception(exc, locals=True))
    assert Counting.calls == 1
    assert text.count("Counting(seen=2)") >= 3 and "Counting(seen=3)" not in text
    # A new capture is a new batch: the repr runs again, once.
    Counting.calls = 0
    safe_repr([obj, obj, {"k": obj}])
    assert Counting.calls == 1


def test_builtin_reprs_are_never_skipped():
    def gen():
        yield 1

    def f(h1, h2, h3, g, fn, code, rng, meth):
        raise ValueError("x")
    g = gen()
    try:
        f(Hanging(), Hanging(), Hanging(), g, len, gen.__code__, range(3), str.join)
    except ValueError as exc:
        text = "".join(format_exception(exc, locals=True, repr_timeout=0.05,
                                        total_repr_timeout=0.05))
    assert "<repr skipped: time budget spent>" in text     # the budget was spent
    assert f"g = {repr(g)}" in text
    assert "fn = <built-in function len>" in text
    assert f"code = {repr(gen.__code__)}" in text
    assert "rng = range(0, 3)" in text
    assert "meth = <method 'join' of 'str' objects>" in text


def _target(a, b=2):
    return a + b


def test_partial_shows_its_own_repr():
    p = functools.partial(_target, 1, b=3)
    assert safe_repr(p) == repr(p)
    try:
        raise ValueError(p)
    except ValueError as exc:
        doc = json.loads(ev.capture_json(exc))
        text = "".join(format_exception(exc, locals=True))
    frame, = [f for f in doc["frames"] if f["name"] == "test_partial_shows_its_own_repr"]
    assert frame["locals"]["p"]["repr"] == repr(p)
    assert "__vectorcalloffset__" not in json.dumps(doc["frames"])
    assert f"p = {repr(p)}" in text
    assert "__vectorcalloffset__" not in text


class Point:
    __slots__ = ("x", "y")

    def __init__(self):
        self.x, self.y = 1, 2


class Base3D(Point):
    __slots__ = ("z",)

    def __init__(self):
        super().__init__()
        self.z = 3


def test_slots_of_python_classes_still_shown():
    p = Base3D()
    try:
        raise ValueError("x")
    except ValueError as exc:
        doc = json.loads(ev.capture_json(exc))
    frame, = [f for f in doc["frames"] if f["name"] == "test_slots_of_python_classes_still_shown"]
    node = frame["locals"]["p"]
    assert {k: v["repr"] for k, v in node["attrs"].items()} == {"x": "1", "y": "2", "z": "3"}


SLEEPY = textwrap.dedent('''
    import json, signal, sys, threading, time
    import sleuth.evidence as ev
    from sleuth.traceback import format_exception

    class Sleepy:
        calls = 0
        def __repr__(self):
            Sleepy.calls += 1
            time.sleep(600)
            return "slept"

    class Waiting:
        def __repr__(self):
            threading.Event().wait()
            return "woke"

    def f(a, b, c, d):
        raise ValueError("x")
    try:
        f(Sleepy(), Sleepy(), Sleepy(), Waiting())
    except ValueError as e:
        exc = e
    text = "".join(format_exception(exc, locals=True, repr_timeout=0.2,
                                    total_repr_timeout=1.0))
    print("format", text.count("<repr timed out>"), text.count("<repr skipped"), Sleepy.calls)
    doc = json.loads(ev.capture_json(exc, repr_timeout=0.2, total_repr_timeout=1.0))
    frames = json.dumps(doc["frames"])
    print("capture", frames.count("<repr timed out>") > 0, "slept" in frames)
    time.sleep(0.3)                # nothing left pending for the program
    print("handler", signal.getsignal(signal.SIGRTMAX - 5))
    print("done")
''')


def test_sleeping_repr_is_interrupted(tmp_path):
    """time.sleep(600) and Event().wait() in __repr__: without the watchdog
    the child would sleep for ten minutes and the subprocess timeout would
    fail the test; with it each shows <repr timed out>."""
    (tmp_path / "sleepy.py").write_text(SLEEPY)
    r = subprocess.run([PY, "sleepy.py"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    fmt = lines[0].split()
    assert fmt[0] == "format" and int(fmt[1]) >= 1
    assert int(fmt[1]) + int(fmt[2]) == 4          # every value: timed out or skipped
    assert lines[1] == "capture True False"
    assert lines[2] == "handler 0"     # SIG_DFL again, not sleuth's handler
    assert lines[3] == "done"
    assert r.stderr == ""
