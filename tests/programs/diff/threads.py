"""Threads: workers with a lock, a pool, an exception inside a thread."""
import concurrent.futures
import sys
import threading

OUT = []


def note(*parts):
    OUT.append(" ".join(str(p) for p in parts))


def never_called():
    t = threading.Thread(target=print)
    return t


lock = threading.Lock()
shared = {"count": 0}


def work(name, n, results):
    total = 0
    for i in range(n):
        total += i * i
        with lock:
            shared["count"] += 1
    results[name] = total


def square(x):
    if x == 3:
        raise ArithmeticError("three")
    return x * x


def main():
    results = {}
    threads = [threading.Thread(target=work, args=("w%d" % k, 20 + k, results), name="w%d" % k)
               for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    note("results", sorted(results.items()), "count", shared["count"])
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(square, x) for x in range(6)]
        for f in futures:
            exc = f.exception()
            note("future", type(exc).__name__ if exc else f.result())
    seen = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: seen.append(args.exc_type.__name__)
    t = threading.Thread(target=square, args=(3,))
    t.start()
    t.join()
    threading.excepthook = old_hook
    note("thread excepthook", seen)
    local = threading.local()
    local.v = "main"

    def peek(out):
        out.append(getattr(local, "v", "unset"))

    got = []
    t = threading.Thread(target=peek, args=(got,))
    t.start()
    t.join()
    note("local", local.v, got)
    return len(OUT)


count = main()
note("count", count)
data = "\n".join(OUT) + "\n"
status = 3 + sum(data.encode()) % 200
with open(sys.argv[1], "a") as f:
    f.write(data + "=== end %d\n" % status)
sys.exit(status)
