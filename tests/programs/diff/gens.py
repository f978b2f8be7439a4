"""Generators: yield from, send/throw/close, return values, finalisation."""
import sys

OUT = []


def note(*parts):
    OUT.append(" ".join(str(p) for p in parts))


def never_called(x):
    y = x * 2
    z = y + 1
    return z


def counter(n):
    i = 0
    while i < n:
        got = yield i
        if got is not None:
            note("counter got", got)
            i = got
        i += 1
    return "counter done %d" % i


def delegator(n):
    result = yield from counter(n)
    note("delegator result", result)
    inner = yield from (c * 10 for c in range(3))
    note("genexp result", inner)
    return len(result)


def catcher():
    while True:
        try:
            value = yield
            note("catcher value", value)
        except KeyError as exc:
            note("catcher caught", type(exc).__name__, exc.args)
            yield "recovered"
        except GeneratorExit:
            note("catcher closing")
            raise
        finally:
            note("catcher finally")


def stopper():
    yield 1
    raise StopIteration("inside")     # becomes RuntimeError (PEP 479)


def pipeline(data):
    evens = (d for d in data if d % 2 == 0)
    squares = (e * e for e in evens)
    return sum(squares)


def main():
    note("list", list(counter(4)))
    g = delegator(5)
    note("first", next(g))
    note("send", g.send(3))
    seen = list(g)
    note("rest", seen)
    c = catcher()
    next(c)
    c.send("a")
    note("throw ->", c.throw(KeyError("k")))
    next(c)
    c.send("b")
    c.close()
    try:
        list(stopper())
    except RuntimeError as exc:
        note("pep479", type(exc).__name__, type(exc.__cause__).__name__, exc.__cause__)
    g2 = counter(10)
    next(g2)
    try:
        g2.throw(ValueError("into counter"))
    except ValueError as exc:
        note("escaped", exc)
    note("after throw", list(g2))
    note("pipeline", pipeline(range(20)))
    note("zip", list(zip(counter(3), counter(5))))
    return len(OUT)


count = main()
note("count", count)
data = "\n".join(OUT) + "\n"
status = 3 + sum(data.encode()) % 200
with open(sys.argv[1], "a") as f:
    f.write(data + "=== end %d\n" % status)
sys.exit(status)
