"""Loops of capture/load/format/safe_repr keep memory flat.

Run in a child process: inside pytest, its own bookkeeping allocates a
little per call too and drowns the signal. The count is of memory blocks
(sys.getallocatedblocks) still allocated per call, in the best of several
windows after a warm-up: a leak of even one object per call shows as >= 1 in
every window, while CPython's caches and free lists settle (slowly: it takes
a thousand or two calls) and show up only in some. With 300 warm-up calls the
capture loop's best window was still 0.3 blocks per call once in CI (ASan
build, busy machine); after 1500 it is 0.0-0.02 here.
"""
import textwrap

CHILD = textwrap.dedent("""
    import gc, os, sys, tempfile, threading
    import sleuth.evidence as ev
    import sleuth.traceback as stb

    class Hostile:
        def __repr__(self):
            raise ValueError("x")

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

    box = []
    t = threading.Thread(target=lambda: box.append(make_exc()))
    t.start(); t.join()
    EXC = box[0]
    path = ev.capture(EXC, os.path.join(tempfile.mkdtemp(), "x.json"))
    values = [{"a": [1, 2, {"b": Hostile()}]}, "x" * 10_000, list(range(1000)), Hostile()]

    def growth(fn, warm=1500, window=200, windows=8):
        for _ in range(warm):
            fn()
        best = None
        for _ in range(windows):
            gc.collect()
            before = sys.getallocatedblocks()
            for _ in range(window):
                fn()
            gc.collect()
            per_call = (sys.getallocatedblocks() - before) / window
            best = per_call if best is None else min(best, per_call)
        return best

    # Without the repr time guard for the big loops: with a trace function
    # installed, CPython's own frame and instrumentation caches keep growing
    # for a few thousand calls before they settle. safe_repr covers the guard.
    print("format", growth(lambda: stb.format_exception(EXC, locals=True, repr_timeout=0)))
    print("capture", growth(lambda: ev.capture_json(EXC, repr_timeout=0)))
    print("load", growth(lambda: ev.load(path)))
    print("safe_repr", growth(lambda: [stb.safe_repr(v) for v in values]))
""")


def test_loops_stay_flat(py):
    r = py(["-c", CHILD], timeout=300)
    assert r.returncode == 0, r.stderr
    per_call = {name: float(v) for name, v in (ln.split() for ln in r.stdout.splitlines())}
    assert set(per_call) == {"format", "capture", "load", "safe_repr"}
    for name, blocks in per_call.items():
        assert blocks < 0.25, (name, per_call)
