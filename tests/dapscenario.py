"""DAP scenarios that run the same way against any adapter (sleuth's or
debugpy's) and return what a user would see, so the two can be compared.

    summary = breakpoint_scenario(client, launch_args)

The client is a DapClient already started (spawned adapter or connected
socket). Launch responses are awaited only after configurationDone, since
debugpy answers `launch` then (sleuth answers it at once: both are DAP).
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.join(HERE, "programs", "dap_scenario.py")
SOURCES_PROGRAM = os.path.join(HERE, "programs", "dap_sources.py")


def marker_line(marker, path=PROGRAM):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.rstrip().endswith("# " + marker):
                return n
    raise LookupError(marker)


def start(c, request="launch", **args):
    """initialize + launch/attach, breakpoints, configurationDone; returns
    (the launch/attach response, the initialize response)."""
    init = c.request("initialize", clientID="sleuth-tests", adapterID="python",
                     linesStartAt1=True, columnsStartAt1=True, pathFormat="path",
                     supportsVariableType=True)
    assert init["success"], init
    seq = c.request_async(request, **args)
    c.wait_event("initialized", timeout=60)
    return seq, init


def configure(c, seq, breakpoints=(), path=PROGRAM):
    if breakpoints:
        r = c.request("setBreakpoints", source={"path": path},
                      breakpoints=[{"line": n} for n in breakpoints])
        assert r["success"], r
    r = c.request("setExceptionBreakpoints", filters=[])
    assert r["success"], r
    r = c.request("configurationDone")
    assert r["success"], r
    r = c.response(seq, timeout=60)
    assert r["success"], r


def stop_info(c, after):
    """The next stopped event at or after index `after`: (reason, frame name,
    line, thread id, frame id)."""
    ev = c.wait_event("stopped", timeout=60, after=after)
    tid = ev["body"]["threadId"]
    st = c.request("stackTrace", threadId=tid, startFrame=0, levels=20)
    assert st["success"], st
    top = st["body"]["stackFrames"][0]
    return ev["body"]["reason"], top["name"], top["line"], tid, top["id"], st["body"]["stackFrames"]


def local_vars(c, frame_id):
    sc = c.request("scopes", frameId=frame_id)
    assert sc["success"], sc
    locs = next(s for s in sc["body"]["scopes"] if s["name"].lower().startswith("locals"))
    vs = c.request("variables", variablesReference=locs["variablesReference"])
    assert vs["success"], vs
    return {v["name"]: v["value"] for v in vs["body"]["variables"]
            if not v["name"].startswith(("(", "special", "function", "class"))}


def evaluate(c, frame_id, expr, context="repl"):
    r = c.request("evaluate", expression=expr, frameId=frame_id, context=context)
    if r["success"]:
        return r["body"]["result"]
    # adapters word failures differently (debugpy sends the whole traceback):
    # keep the exception line
    lines = [ln for ln in r.get("message", "").splitlines() if ln.strip()]
    return "error: " + (lines[-1].strip() if lines else "")


def breakpoint_scenario(c, request="launch", **args):
    """Break in add(), look at locals and evaluate, step once, run to the end."""
    seq, _ = start(c, request, **args)
    configure(c, seq, [marker_line("BREAK add")])
    out = {}
    n = len(c.events)
    reason, fname, line, tid, fid, frames = stop_info(c, 0)
    out["stop1"] = (reason, fname, line)
    out["frames1"] = [(f["name"], f["line"]) for f in frames
                      if os.path.basename(f.get("source", {}).get("path", "")) == "dap_scenario.py"]
    out["locals1"] = local_vars(c, fid)
    out["eval1"] = [evaluate(c, fid, e) for e in ("a * 10", "name.upper()", "items[1:3]",
                                                      "undefined_name")]
    n = len(c.events)
    r = c.request("next", threadId=tid)
    assert r["success"], r
    reason, fname, line, tid, fid, _ = stop_info(c, n)
    out["stop2"] = (reason, fname, line)
    out["eval2"] = evaluate(c, fid, "total", "watch")
    r = c.request("continue", threadId=tid)
    assert r["success"], r
    c.wait_event("terminated", timeout=60)
    exited = [e for e in c.events if e["event"] == "exited"]
    out["exit"] = exited[0]["body"]["exitCode"] if exited else None
    out["stdout"] = c.output.get("stdout", "")
    disconnect(c)
    return out


def disconnect(c):
    """disconnect, answered or not: a program attached to directly may have
    closed the connection after `terminated` (sleuth's and debugpy's both may)."""
    try:
        seq = c.request_async("disconnect")
    except OSError:
        return None
    return c._wait(lambda: c.responses.get(seq) or (c.closed and {"closed": True}),
                   "the disconnect response or the end of the connection", None)


def events_until_stopped(c, start_index):
    """The events from index start_index to the next `stopped` (included),
    without output/module/thread events (which adapters send at will)."""
    ev = c.wait_event("stopped", timeout=60, after=start_index)
    evs = c.events[start_index:c.events.index(ev) + 1]
    return [e for e in evs if e["event"] not in ("output", "module", "thread")]


def sources_scenario(c, **args):
    """Stops in cb() called from generated code: which frames get a
    sourceReference, what `source` answers, and the events after a resume."""
    prog = SOURCES_PROGRAM
    seq, _ = start(c, "launch", program=prog, console="internalConsole", cwd=os.path.dirname(prog),
                   justMyCode=False, **args)
    configure(c, seq, [marker_line("BREAK cb", prog)], path=prog)
    out = {}
    ev = c.wait_event("stopped", timeout=60)
    tid = ev["body"]["threadId"]
    frames = c.request("stackTrace", threadId=tid)["body"]["stackFrames"]
    mine = [f for f in frames if f["source"]["path"] in (prog, "<gen-1>", "<string>")]
    out["frames"] = [(f["name"], f["source"]["path"], f["source"].get("sourceReference", 0) > 0)
                     for f in mine]
    gen = next(f for f in mine if f["source"]["path"] == "<gen-1>")
    r = c.request("source", source=gen["source"], sourceReference=gen["source"]["sourceReference"])
    out["gen_source"] = (r["success"], r.get("body", {}).get("content"))
    r = c.request("source", sourceReference=999999)
    out["unknown_reference"] = r["success"]
    for how in ("next", "continue"):
        n = len(c.events)
        rseq = c.request_async(how, threadId=tid)
        evs = events_until_stopped(c, n)
        resp = c.response(rseq)
        assert resp["success"], resp
        out["after_" + how] = [e["event"] for e in evs]
        cont = [e for e in evs if e["event"] == "continued"]
        # the event names the thread, and comes after the response
        out["continued_" + how] = [(e["body"]["threadId"] == tid, e["seq"] > resp["seq"]) for e in cont]
        tid = evs[-1]["body"]["threadId"]
    c.request("setBreakpoints", source={"path": prog}, breakpoints=[])
    c.request("continue", threadId=tid)
    c.wait_event("terminated", timeout=60)
    disconnect(c)
    return out
