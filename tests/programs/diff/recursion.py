"""Recursion to the recursion limit, RecursionError caught and survived."""
import sys

OUT = []


def note(*parts):
    OUT.append(" ".join(str(p) for p in parts))


def never_called(n):
    if n:
        return never_called(n - 1)
    return 0


def depth():
    frame, n = sys._getframe(1), 0
    while frame is not None:
        frame, n = frame.f_back, n + 1
    return n


def down(n):
    try:
        return down(n + 1)
    except RecursionError:
        return n


def down_finally(n, log):
    try:
        down_finally(n + 1, log)
    finally:
        if n % 50 == 0:
            log.append(n)


def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)


class Deep:
    def __repr__(self):
        return repr(self)


def main():
    base = depth()
    old = sys.getrecursionlimit()
    # The same room above this frame, whatever runs the program: 3.11 also
    # counts a launcher's C calls (runpy's exec, a debugger's own entry), so
    # measure what is hidden below this frame and give 200 frames on top.
    hidden = old - base - down(0)
    sys.setrecursionlimit(base + hidden + 200)
    reached = down(0)
    note("down reached", reached)
    log = []
    try:
        down_finally(0, log)
    except RecursionError as exc:
        note("finally log", log, type(exc).__name__)
    try:
        repr(Deep())
    except RecursionError:
        note("repr recursion caught")
    note("again", down(0) == reached)
    note("fact", fact(100) % 1000003)
    sys.setrecursionlimit(old)
    return len(OUT)


count = main()
note("count", count)
data = "\n".join(OUT) + "\n"
status = 3 + sum(data.encode()) % 200
with open(sys.argv[1], "a") as f:
    f.write(data + "=== end %d\n" % status)
sys.exit(status)
