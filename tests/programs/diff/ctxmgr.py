"""Context managers that swallow, re-raise, translate; exceptions thrown in."""
import contextlib
import sys

OUT = []


def note(*parts):
    OUT.append(" ".join(str(p) for p in parts))


def never_called():
    with contextlib.suppress(KeyError):
        note("never")
    return 0


@contextlib.contextmanager
def swallow(*kinds):
    note("swallow enter", [k.__name__ for k in kinds])
    try:
        yield "S"
    except kinds as exc:
        note("swallowed", type(exc).__name__, exc)
    finally:
        note("swallow exit")


@contextlib.contextmanager
def reraise():
    try:
        yield "R"
    except Exception as exc:
        note("reraise saw", type(exc).__name__)
        raise


@contextlib.contextmanager
def translate():
    try:
        yield
    except ZeroDivisionError as exc:
        raise ValueError("translated") from exc


class Manual:
    def __init__(self, name, swallow):
        self.name = name
        self.swallow = swallow

    def __enter__(self):
        note("enter", self.name)
        return self

    def __exit__(self, kind, value, tb):
        note("exit", self.name, kind.__name__ if kind else None)
        return self.swallow


def work(i):
    with swallow(KeyError, IndexError) as s:
        note("in", s, i)
        if i == 1:
            {}["missing"]
        if i == 2:
            [][3]
    return i * 2


def main():
    total = sum(work(i) for i in range(3))
    note("total", total)
    try:
        with reraise() as r:
            note("body", r)
            raise LookupError("up")
    except LookupError as exc:
        note("caught", exc)
    try:
        with translate():
            1 / 0
    except ValueError as exc:
        note("translated", exc, type(exc.__cause__).__name__)
    with Manual("outer", True), Manual("inner", False):
        raise OSError("both see it")
    note("after manual")
    with contextlib.ExitStack() as stack:
        for n in range(3):
            stack.enter_context(Manual("stack%d" % n, n == 1))
        stack.callback(note, "callback ran")
        raise TypeError("stacked")
    note("after stack")
    cm = swallow(RuntimeError)
    cm.__enter__()
    note("exit returns", cm.__exit__(RuntimeError, RuntimeError("thrown in"), None))
    cm = reraise()
    cm.__enter__()
    try:
        cm.__exit__(KeyError, KeyError("k"), None)
    except KeyError as exc:
        note("exit reraised", repr(exc))
    with contextlib.suppress(AttributeError):
        None.nothing
    note("suppressed")
    with contextlib.nullcontext(5) as five:
        note("null", five)
    return len(OUT)


count = main()
note("count", count)
data = "\n".join(OUT) + "\n"
status = 3 + sum(data.encode()) % 200
with open(sys.argv[1], "a") as f:
    f.write(data + "=== end %d\n" % status)
sys.exit(status)
