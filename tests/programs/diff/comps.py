"""Comprehensions: nested, walrus, generator expressions, in class bodies, exceptions."""
import sys

OUT = []


def note(*parts):
    OUT.append(" ".join(str(p) for p in parts))


def never_called():
    return [x for x in range(3)]


def nested(n):
    return [[i * j for j in range(i)] for i in range(n)]


def walrus(data):
    kept = [y for x in data if (y := x * 3) % 2 == 0]
    return kept, y  # noqa: F821  (the walrus binds in the function)


def raising(data):
    try:
        return [10 // x for x in data]
    except ZeroDivisionError as exc:
        return "zero: %s" % exc


def shadow():
    x = "outer"
    values = [x for x in range(3)]
    return x, values


class Holder:
    base = 5
    inside = [i for i in range(3)]
    pairs = {k: v for k, v in zip("abc", range(3))}


def lazy():
    gen = (note("gen item %d" % i) or i for i in range(3))
    note("gen built")
    return sum(gen)


def main():
    note("nested", nested(4))
    note("walrus", walrus(range(6)))
    note("raising", raising([1, 2, 0, 3]))
    note("shadow", shadow())
    note("holder", Holder.inside, sorted(Holder.pairs.items()))
    note("set", sorted({c for c in "mississippi"}))
    note("dict", sorted({i % 3: i for i in range(10)}.items()))
    note("lazy", lazy())
    note("any", any(x > 3 for x in range(5)), all(x < 3 for x in range(5)))
    return len(OUT)


count = main()
note("count", count)
data = "\n".join(OUT) + "\n"
status = 3 + sum(data.encode()) % 200
with open(sys.argv[1], "a") as f:
    f.write(data + "=== end %d\n" % status)
sys.exit(status)
