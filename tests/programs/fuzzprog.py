"""The command fuzz's program: writes its own results to the file named by
argv[1] (appending one block a run), so that what the debugger prints on
stdout cannot be mistaken for the program's output."""
import sys


class Acc:
    def __init__(self):
        self.total = 0

    def add(self, v):
        self.total += v
        return self.total


def gen(n):
    for i in range(n):
        yield i * i


def risky(v):
    try:
        if v % 3 == 0:
            raise ValueError(v)
        return v
    except ValueError as e:
        return -int(str(e))


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def main(out):
    acc = Acc()
    for v in gen(5):
        acc.add(risky(v))                   # line 37
    out.append("acc %d" % acc.total)
    out.append("fib %d" % fib(6))
    out.append("sq %r" % [x for x in gen(4)])
    return acc.total


results = ["start"]
results.append("end %d" % main(results))
with open(sys.argv[1], "a") as f:
    f.write("\n".join(results) + "\n")
