"""Exception chains (__cause__, __context__, from None), notes, except* groups,
and the formatted tracebacks of all of them."""
import sys
import traceback

OUT = []


def note(*parts):
    OUT.append(" ".join(str(p) for p in parts))


def never_called():
    raise RuntimeError("never")


def low(x):
    return {"a": 1}[x]


def middle(x):
    try:
        return low(x)
    except KeyError as exc:
        raise ValueError("middle failed") from exc


def top(x):
    try:
        middle(x)
    except ValueError:
        raise TypeError("top failed")


def hidden():
    try:
        1 / 0
    except ZeroDivisionError:
        raise LookupError("context hidden") from None


def group():
    errors = []
    for i in range(4):
        try:
            if i % 2:
                raise ValueError(i)
            raise KeyError(i)
        except Exception as exc:
            exc.add_note("attempt %d" % i)
            errors.append(exc)
    raise ExceptionGroup("many", [*errors, ExceptionGroup("inner", [OSError("disk")])])


def describe(exc):
    chain = []
    while exc is not None:
        chain.append("%s(%s) suppress=%s" % (type(exc).__name__, exc, exc.__suppress_context__))
        exc = exc.__cause__ or exc.__context__
    return chain


def main():
    try:
        top("b")
    except TypeError as exc:
        note("chain", describe(exc))
        note("".join(traceback.format_exception(exc)))
    try:
        hidden()
    except LookupError as exc:
        note("hidden", describe(exc), exc.__context__ is not None)
        note("".join(traceback.format_exception(exc)))
    try:
        try:
            group()
        except* ValueError as eg:
            note("star values", sorted(str(e) for e in eg.exceptions))
        except* OSError as eg:
            note("star os", [type(e).__name__ for e in eg.exceptions])
    except* KeyError as eg:
        note("outer keys", [getattr(e, "__notes__", None) for e in eg.exceptions])
    try:
        group()
    except ExceptionGroup as eg:
        match, rest = eg.split(KeyError)
        note("split", len(match.exceptions), len(rest.exceptions))
        note("".join(traceback.format_exception(eg)))
    try:
        try:
            raise ValueError("inside star")
        except* ValueError:
            raise RuntimeError("raised in except*")
    except ExceptionGroup as eg:
        note("reraised group", [type(e).__name__ for e in eg.exceptions])
    except RuntimeError as exc:
        note("plain reraise", type(exc.__context__).__name__)
    return len(OUT)


count = main()
note("count", count)
data = "\n".join(OUT) + "\n"
status = 3 + sum(data.encode()) % 200
with open(sys.argv[1], "a") as f:
    f.write(data + "=== end %d\n" % status)
sys.exit(status)
