"""A program that traces itself: sys.settrace, frame.f_trace, and (3.12+) its
own sys.monitoring tool, including DISABLE and restart_events()."""
import sys

OUT = []


def note(*parts):
    OUT.append(" ".join(str(p) for p in parts))


def never_called():
    sys.settrace(None)
    return 0


def target(n):
    total = 0
    for i in range(n):
        total += helper(i)
    return total


def helper(i):
    if i % 2:
        return i
    return -i


def boom():
    x = 1
    return x


FIRST = target.__code__.co_firstlineno


def settrace_part():
    events = []

    def tracer(frame, event, arg):
        name = frame.f_code.co_name
        if name not in ("target", "helper", "boom"):
            return None
        events.append("%s:%s:%d" % (name, event, frame.f_lineno - FIRST))
        if name == "boom" and event == "line":
            raise LookupError("from the tracer")
        return tracer

    old = sys.gettrace()
    sys.settrace(tracer)
    value = target(4)
    sys.settrace(old)
    note("settrace value", value, "events", len(events))
    for e in events:
        note(" ", e)
    events.clear()
    sys.settrace(tracer)
    try:
        boom()
    except LookupError as exc:
        note("tracer raised", exc, "trace now", sys.gettrace())
    sys.settrace(old)
    note("boom events", events)


def f_trace_part():
    lines = []

    def local(frame, event, arg):
        lines.append((event, frame.f_lineno - FIRST))
        return local

    def outer_tracer(frame, event, arg):
        return None

    def run():
        frame = sys._getframe()
        frame.f_trace = local
        frame.f_trace_lines = True
        a = 1
        b = a + 1
        return b

    old = sys.gettrace()
    sys.settrace(outer_tracer)
    run()
    sys.settrace(old)
    note("f_trace lines", len(lines), lines[-1][0] if lines else None)


def monitoring_part():
    if not hasattr(sys, "monitoring"):
        note("no sys.monitoring")
        return
    mon = sys.monitoring
    tool = 4
    if mon.get_tool(tool) is not None:
        note("tool busy")
        return
    mon.use_tool_id(tool, "diffprog")
    E = mon.events
    seen = []

    def on_line(code, line):
        seen.append(("line", code.co_name, line - FIRST))
        if code.co_name == "helper":
            return mon.DISABLE

    def on_start(code, offset):
        seen.append(("start", code.co_name))

    def on_raise(code, offset, exc):
        if code.co_name in ("target", "helper", "boom", "raiser"):
            seen.append(("raise", code.co_name, type(exc).__name__))

    def raiser():
        try:
            raise KeyError("k")
        except KeyError:
            return "handled"

    mon.register_callback(tool, E.LINE, on_line)
    mon.register_callback(tool, E.PY_START, on_start)
    mon.register_callback(tool, E.RAISE, on_raise)
    mon.set_local_events(tool, target.__code__, E.LINE | E.PY_START)
    mon.set_local_events(tool, helper.__code__, E.LINE)
    mon.set_events(tool, E.RAISE)
    note("monitoring value", target(3), raiser())
    first = len(seen)
    target(3)
    note("after DISABLE", len(seen) - first)
    mon.restart_events()
    before = len(seen)
    target(2)
    note("after restart", len(seen) - before)
    mon.set_events(tool, 0)
    mon.set_local_events(tool, target.__code__, 0)
    mon.set_local_events(tool, helper.__code__, 0)
    mon.register_callback(tool, E.LINE, None)
    mon.register_callback(tool, E.PY_START, None)
    mon.register_callback(tool, E.RAISE, None)
    mon.free_tool_id(tool)
    for s in seen:
        note(" ", s)


def main():
    settrace_part()
    f_trace_part()
    monitoring_part()
    note("plain value", target(5))
    return len(OUT)


count = main()
note("count", count)
data = "\n".join(OUT) + "\n"
status = 3 + sum(data.encode()) % 200
with open(sys.argv[1], "a") as f:
    f.write(data + "=== end %d\n" % status)
sys.exit(status)
