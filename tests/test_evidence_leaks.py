"""Loops of capture/load/format keep memory flat (leaks in the C code show here)."""
import gc
import tracemalloc

import sleuth.evidence as ev
import sleuth.traceback as stb


class Hostile:
    def __repr__(self):
        raise ValueError("x")


def growth(fn, rounds=60):
    """Bytes still allocated after `rounds` calls, beyond a warmed-up baseline
    (as many calls again first: caches and free lists fill up to a point)."""
    for _ in range(rounds):
        fn()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(rounds):
            fn()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()


def failing(order, password, hostile):
    items = list(range(100))
    raise KeyError("missing")


def make_exc():
    try:
        try:
            failing({"items": [1, 2], "token": "t"}, "pw", Hostile())
        except KeyError as e:
            raise ExceptionGroup("g", [e, ValueError("v")])
    except ExceptionGroup as g:
        return g


def exc_with_short_stack():
    # Made in a fresh thread, so that the callers kept in the evidence are a
    # few threading frames instead of pytest's collection machinery.
    import threading
    box = []
    t = threading.Thread(target=lambda: box.append(make_exc()))
    t.start()
    t.join()
    return box[0]


EXC = exc_with_short_stack()


# Thresholds: the first calls fill caches (linecache, traceback's) by some
# tens of KB; a leak of a few hundred bytes per call exceeds them.

def test_format_exception_locals_flat():
    assert growth(lambda: stb.format_exception(EXC, locals=True), rounds=100) < 50_000


def test_safe_repr_flat():
    values = [{"a": [1, 2, {"b": Hostile()}]}, "x" * 10_000, list(range(1000)), Hostile()]
    assert growth(lambda: [stb.safe_repr(v) for v in values], rounds=200) < 16_000


def test_capture_json_flat():
    assert growth(lambda: ev.capture_json(EXC), rounds=60) < 64_000


def test_load_flat(tmp_path):
    path = ev.capture(EXC, tmp_path / "x.json")
    assert growth(lambda: ev.load(path), rounds=60) < 32_000
