"""finally blocks: return overriding, break/continue, nested, on generator close."""
import sys
import warnings

OUT = []


def note(*parts):
    OUT.append(" ".join(str(p) for p in parts))


def never_called():
    try:
        return 1
    finally:
        note("never")


def override():
    try:
        return "try"
    finally:
        note("override finally")


def swallowing():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec("def f():\n try:\n  raise KeyError('lost')\n finally:\n  return 'finally wins'\n",
             globals())
    return f()  # noqa: F821


def loop_finally(n):
    seen = []
    for i in range(n):
        try:
            if i % 3 == 0:
                continue
            if i == 7:
                break
            seen.append(i)
        finally:
            seen.append(-i)
    return seen


def nested(k):
    log = []
    try:
        try:
            log.append("inner")
            if k:
                raise ValueError(k)
        finally:
            log.append("inner finally")
    except ValueError as exc:
        log.append("caught %s" % exc)
    finally:
        log.append("outer finally")
    return log


def gen_with_finally():
    try:
        yield 1
        yield 2
    finally:
        note("gen finally")


def raise_in_finally():
    try:
        try:
            raise KeyError("first")
        finally:
            raise IndexError("second")
    except IndexError as exc:
        return type(exc.__context__).__name__


def main():
    note("override", override())
    note("swallowing", swallowing())
    note("loop", loop_finally(10))
    note("nested0", nested(0))
    note("nested1", nested(1))
    g = gen_with_finally()
    note("gen first", next(g))
    g.close()
    note("gen closed")
    g = gen_with_finally()
    next(g)
    del g
    note("gen deleted")
    note("context", raise_in_finally())
    return len(OUT)


count = main()
note("count", count)
data = "\n".join(OUT) + "\n"
status = 3 + sum(data.encode()) % 200
with open(sys.argv[1], "a") as f:
    f.write(data + "=== end %d\n" % status)
sys.exit(status)
