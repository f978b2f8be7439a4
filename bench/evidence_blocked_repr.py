"""What the capture's time bound cannot cut short, measured: a local whose __repr__
loops in C, backtracks in a regular expression or sleeps, captured from the main
thread and from a worker (docs/evidence.md, "What cannot be interrupted").
Run: python bench/evidence_blocked_repr.py"""
import re, sys, threading, time
import sleuth.evidence as ev

class CLoop:          # a C loop holding the GIL: sum() over a big range
    def __repr__(self):
        return str(sum(range(30_000_000)))

class Regex:          # a regular expression that backtracks, in C, GIL held
    def __repr__(self):
        return str(re.match(r"(a+)+$", "a" * 22 + "b"))

class Sleeper:        # blocked in a system call
    def __repr__(self):
        time.sleep(3)
        return "slept"

def capture(obj, where):
    def work():
        value = obj
        try:
            raise RuntimeError("x")
        except RuntimeError as e:
            t0 = time.monotonic()
            ev.capture_json(e, repr_timeout=0.2, total_repr_timeout=0.5)
            out[where] = time.monotonic() - t0
    out = {}
    if where == "main":
        work()
    else:
        t = threading.Thread(target=work)
        t.start()
        t.join()
    return out[where]

def alone(obj):
    t0 = time.monotonic()
    repr(obj)
    return time.monotonic() - t0

for name, obj in (("C loop (sum over 30M)", CLoop()), ("backtracking regex", Regex()),
                  ("time.sleep(3)", Sleeper())):
    print(f"{name}: repr alone {alone(obj):.2f} s; capture on the main thread "
          f"{capture(obj, 'main'):.2f} s; on a worker thread {capture(obj, 'worker'):.2f} s")
