"""The engine never changes the program it debugs: each program here runs plain
and under sleuth, and its own output (written to stderr, away from the
debugger's prompts on stdout) and exit status must be the same."""
import sys
import textwrap

import pytest

from conftest import run_python

MONITORING = sys.version_info >= (3, 12)


def write(tmp_path, source, name="prog.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def plain_and_sleuth(tmp_path, source, commands, timeout=60):
    """Run the program plain, then under `python -m sleuth` typing `commands`."""
    prog = write(tmp_path, source)
    plain = run_python([str(prog)], cwd=tmp_path, timeout=timeout)
    debugged = run_python(["-m", "sleuth", str(prog)], input="\n".join(commands) + "\n",
                          cwd=tmp_path, timeout=timeout)
    return plain, debugged


# --- exceptions thrown into generators (PY_THROW is a global-only event) -----

THROWN = """\
    import contextlib
    import sys

    out = sys.stderr

    @contextlib.contextmanager
    def cm():
        try:
            yield 1
        except KeyError:
            print("cm caught KeyError", file=out)
            raise

    def gen():
        try:
            yield 1
            yield 2
        except ValueError as e:
            print("gen caught", e, file=out)
            yield 3

    def main():
        for _ in range(3):
            try:
                with cm():
                    raise KeyError("k")
            except KeyError as e:
                print("main caught KeyError", e, file=out)
            g = gen()
            print(next(g), file=out)
            print(g.throw(ValueError("v")), file=out)
        print("done", file=out)

    main()
    x = 1
"""


@pytest.mark.parametrize("commands", [
    ["b 35", "c", "c", "q"],             # a breakpoint the throws never come near
    ["b 9", "c", "cl 1", "c", "q"],      # stop in cm() (a generator), then continue
    ["b 11", "c", "c", "c", "c", "q"],   # the breakpoint in the handler of cm(): hit each time
])
def test_exception_thrown_into_generators(tmp_path, commands):
    plain, dbg = plain_and_sleuth(tmp_path, THROWN, commands)
    assert plain.returncode == 0 and "done" in plain.stderr
    assert "Cannot disable" not in dbg.stdout + dbg.stderr
    assert dbg.stderr == plain.stderr
    assert dbg.returncode == plain.returncode


# --- the program (or the user at the prompt) takes the engine's hooks away ----

FREES = """\
    import sys

    def f(i):
        x = i * 2
        return x

    def main():
        for i in range(4):
            print("f", f(i), file=sys.stderr)
            if i == 1:
                sys.settrace(None)
                if hasattr(sys, "monitoring"):
                    try:
                        sys.monitoring.free_tool_id(0)
                    except ValueError as e:
                        print("free_tool_id:", e, file=sys.stderr)
        print("end", file=sys.stderr)

    main()
"""


def test_program_that_frees_the_debuggers_hooks(tmp_path):
    """sys.settrace(None) and sys.monitoring.free_tool_id(0) by the program
    itself: no error reaches it, and the debugger goes on stopping."""
    plain, dbg = plain_and_sleuth(tmp_path, FREES, ["b 5", "c", "c", "c", "c", "c", "q"])
    assert plain.returncode == 0 and plain.stderr.endswith("end\n")
    assert dbg.stderr == plain.stderr
    assert dbg.returncode == 0
    assert dbg.stdout.count("-> return x") == 4, dbg.stdout
    assert "The program finished and will be restarted" in dbg.stdout


@pytest.mark.parametrize("command", [
    "p __import__('sys').settrace(None)",
    pytest.param("p __import__('sys').monitoring.free_tool_id(0)",
                 marks=pytest.mark.skipif(not MONITORING, reason="sys.monitoring is 3.12+")),
])
def test_hooks_freed_at_the_prompt(tmp_path, command):
    source = """\
        import sys

        def f(i):
            x = i * 2
            return x

        for i in range(3):
            print("f", f(i), file=sys.stderr)
        print("end", file=sys.stderr)
    """
    plain, dbg = plain_and_sleuth(tmp_path, source, ["b 5", "c", command, "c", "c", "c", "q"])
    assert dbg.stderr == plain.stderr
    assert dbg.returncode == 0
    assert "***" not in dbg.stdout, dbg.stdout
    assert dbg.stdout.count("-> return x") == 3, dbg.stdout


TAKEN = "*** sleuth: sys.monitoring tool id 0 was taken by another tool ('other')"


@pytest.mark.skipif(not MONITORING, reason="sys.monitoring is 3.12+")
def test_tool_id_taken_by_another_tool_at_the_prompt(tmp_path):
    """`p` frees sleuth's tool id and another tool takes it: the debugger
    stops debugging (it would otherwise take an id the program may want),
    says so once, and the program runs on unchanged."""
    source = """\
        import sys

        def f(i):
            x = i * 2
            return x

        for i in range(3):
            print("f", f(i), file=sys.stderr)
        print("end", file=sys.stderr)
    """
    take = ("p __import__('sys').monitoring.free_tool_id(0) or "
            "__import__('sys').monitoring.use_tool_id(0, 'other')")
    plain, dbg = plain_and_sleuth(tmp_path, source, ["b 5", "c", take, "c", "q"])
    assert dbg.stderr == plain.stderr
    assert dbg.returncode == 0
    assert dbg.stdout.count(TAKEN) == 1, dbg.stdout
    assert dbg.stdout.count("***") == 1, dbg.stdout
    # Stopped once; then the program ran to its end and was restarted.
    assert dbg.stdout.count("-> return x") == 1, dbg.stdout
    assert "The program finished and will be restarted" in dbg.stdout


TAKEOVER = """\
    import sys

    def f(i):
        x = i * 2
        return x

    def g():
        a = 1
        for k in range(2):
            a += k
        return a

    mon = sys.monitoring
    E = mon.events
    seen = []
    print("f", f(0), file=sys.stderr)
    mon.free_tool_id(0)
    mon.use_tool_id(0, "other")
    mon.register_callback(0, E.LINE, lambda code, line: seen.append((code.co_name, line)))
    mon.register_callback(0, E.JUMP, lambda code, a, b: seen.append(("jump", code.co_name)))
    mon.register_callback(0, E.PY_START, lambda code, off: seen.append(("start", code.co_name)))
    mon.set_local_events(0, g.__code__, E.LINE | E.JUMP)
    mon.set_events(0, E.PY_START)
    for i in range(1, 3):
        print("f", f(i), file=sys.stderr)
    print("g", g(), file=sys.stderr)
    mon.set_local_events(0, g.__code__, 0)
    mon.set_events(0, 0)
    for ev in (E.LINE, E.JUMP, E.PY_START):
        mon.register_callback(0, ev, None)
    mon.free_tool_id(0)
    print("seen", seen, file=sys.stderr)
    print("end", file=sys.stderr)
"""


@pytest.mark.skipif(not MONITORING, reason="sys.monitoring is 3.12+")
def test_program_takes_the_tool_id_with_its_own_events(tmp_path):
    """The program frees sleuth's tool id, takes it for a tool of its own and
    registers callbacks: they see exactly the events of a plain run (none of
    the breakpoint's local events, no DISABLE of sleuth's), no error reaches
    the program, and the debugger says once that it stops."""
    plain, dbg = plain_and_sleuth(tmp_path, TAKEOVER, ["b 5", "c", "c", "q"])
    assert plain.returncode == 0 and plain.stderr.endswith("end\n")
    assert dbg.stderr == plain.stderr
    assert dbg.returncode == 0
    assert dbg.stdout.count(TAKEN) == 1, dbg.stdout
    # f(0) stops; after the takeover f(1), f(2) do not (the second `c` runs
    # the program to its end, and `q` quits at the restart).
    assert dbg.stdout.count("-> return x") == 1, dbg.stdout


@pytest.mark.skipif(not MONITORING, reason="sys.monitoring is 3.12+")
def test_every_tool_id_taken_at_the_prompt(tmp_path):
    """Every id taken: one `***` line, and the program runs on without the
    debugger."""
    source = """\
        import sys

        def f(i):
            x = i * 2
            return x

        for i in range(3):
            print("f", f(i), file=sys.stderr)
        print("end", file=sys.stderr)
        for i in (0, 3, 4):     # give the ids back for the debugger's restart
            if sys.monitoring.get_tool(i) == "other":
                sys.monitoring.free_tool_id(i)
    """
    take = ("p (m := __import__('sys').monitoring).free_tool_id(0), "
            "[m.use_tool_id(i, 'other') for i in (0, 3, 4)]")
    plain, dbg = plain_and_sleuth(tmp_path, source, ["b 5", "c", take, "c", "q"])
    assert dbg.stderr == plain.stderr
    assert dbg.returncode == 0
    # Its id is another tool's now: sleuth ends the session rather than take
    # one of the ids the program may want next.
    assert dbg.stdout.count(TAKEN) == 1, dbg.stdout
    assert dbg.stdout.count("-> return x") == 1, dbg.stdout


# --- quit in a thread that is not the one running the program ---------------

THREADS = """\
    import sys
    import threading

    bar = threading.Barrier(2)

    def work(i):
        bar.wait()
        total = i
        sys.stderr.write(f"worker {i} done {total}\\n")

    ts = [threading.Thread(target=work, args=(i,), name=f"w{i}") for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("main end", file=sys.stderr)
"""


def test_quit_in_a_worker_thread_ends_the_program(tmp_path):
    """pdb's `q` abandons the program: BdbQuit unwinds the thread it is typed
    in and run() swallows it, so no traceback shows and `python -m pdb` ends.
    Typed in a worker thread (pdb never stops there; sleuth does), it does the
    same: a worker waiting for the prompt does not get one, no thread prints a
    traceback, the main thread stops too and the CLI ends."""
    prog = write(tmp_path, THREADS)
    r = run_python(["-m", "sleuth", str(prog)], input="b 8\nc\nq\n", cwd=tmp_path, timeout=60)
    assert r.stdout.count("-> total = i") == 1, r.stdout
    assert r.stdout.count("(Pdb) ") == 3, r.stdout
    assert "The program finished" not in r.stdout
    # No traceback, and the main thread ends there; the other worker either
    # waited for the prompt (and unwound quietly) or had not stopped yet and
    # runs on to its end, as pdb's untraced threads do.
    assert set(r.stderr.splitlines()) <= {"worker 0 done 0", "worker 1 done 1"}, r.stderr
    assert len(r.stderr.splitlines()) <= 1, r.stderr
    assert r.returncode == 0


WAITER = """\
    import sys
    import threading
    import time

    def work():
        time.sleep(0.3)
        x = 1
        sys.stderr.write("worker done\\n")

    t = threading.Thread(target=work, name="w")
    t.start()
    y = 2
    t.join()
    print("main end", file=sys.stderr)
"""


def test_quit_in_main_while_a_worker_waits_for_the_prompt(tmp_path):
    """`q` typed in the main thread while a worker waits for the prompt: run()
    returns at once, and the worker meets the quit only afterwards (when the
    interpreter's shutdown joins it). It unwinds quietly, as when the quit
    came from another worker; it used to raise a plain BdbQuit there, which
    printed "Exception in thread w" and a traceback (the flaky CI failure of
    test_quit_in_a_worker_thread_ends_the_program was this race)."""
    prog = write(tmp_path, WAITER)
    # The `!` command keeps the main thread at its prompt until the worker
    # has stopped at line 7 and is waiting for its turn.
    commands = "b 7\nb 12\nc\n!import time; time.sleep(1.0)\nq\n"
    r = run_python(["-m", "sleuth", str(prog)], input=commands, cwd=tmp_path, timeout=60)
    assert r.stdout.count("-> y = 2") == 1, r.stdout
    assert "-> x = 1" not in r.stdout, r.stdout
    assert "Traceback" not in r.stderr and "Exception in thread" not in r.stderr, r.stderr
    assert "main end" not in r.stderr, r.stderr
    assert r.returncode == 0, r.stderr


def test_quit_in_the_main_thread_matches_pdb(tmp_path):
    """The same program, `q` at a breakpoint in the main thread: as pdb."""
    prog = write(tmp_path, THREADS)
    commands = "b 16\nc\nq\n"
    pdb_run = run_python(["-m", "pdb", str(prog)], input=commands, cwd=tmp_path, timeout=60)
    ours = run_python(["-m", "sleuth", str(prog)], input=commands, cwd=tmp_path, timeout=60)
    assert ours.stdout == pdb_run.stdout
    assert sorted(ours.stderr.splitlines()) == sorted(pdb_run.stderr.splitlines())
    assert ours.returncode == pdb_run.returncode


# --- beside coverage.py ------------------------------------------------------

COVERED = """\
    import sys

    def f(i):
        if i > 5:
            return -1
        x = i * 2
        return x

    def main():
        total = 0
        for i in range(3):
            total += f(i)
        breakpoint()
        y = total + 1
        print("y", y, file=sys.stderr)
        return y

    main()
    print("end", file=sys.stderr)
"""


def coverage_run(tmp_path, breakpoint_hook, commands="", core=None):
    """`coverage run` the program with PYTHONBREAKPOINT=breakpoint_hook."""
    pytest.importorskip("coverage")
    prog = tmp_path / "prog.py"
    if not prog.exists():
        write(tmp_path, COVERED)
    data = tmp_path / f".coverage.{breakpoint_hook}"
    env = {"PYTHONBREAKPOINT": breakpoint_hook, "COVERAGE_FILE": str(data)}
    if core:
        env["COVERAGE_CORE"] = core
    run = run_python(["-m", "coverage", "run", "prog.py"], input=commands, cwd=tmp_path,
                     env=env, timeout=120)
    report = run_python(["-m", "coverage", "report", "-m"], cwd=tmp_path, env=env, timeout=120)
    return run, report.stdout


def test_breakpoint_stops_under_coverage_where_pdb_stops(tmp_path):
    """coverage.py's C tracer is active (PyEval_SetTrace on 3.11): breakpoint()
    stops right there, as pdb's does, not at coverage's shutdown."""
    commands = "p total\nn\np y\nw\nc\n"
    pdb_run, _ = coverage_run(tmp_path, "pdb.set_trace", commands)
    ours, _ = coverage_run(tmp_path, "sleuth.set_trace", commands)
    assert "prog.py(14)main()" in ours.stdout, ours.stdout
    assert "threading.py" not in ours.stdout
    # `w` lists coverage's own frames below the program: the same as pdb's.
    assert ours.stdout == pdb_run.stdout
    assert ours.stderr == pdb_run.stderr
    assert ours.returncode == pdb_run.returncode == 0


@pytest.mark.skipif(not MONITORING, reason="3.11 has one trace function: pdb's takes it too")
@pytest.mark.parametrize("core", ["ctrace", "sysmon"])
def test_session_leaves_coverage_measurement_alone(tmp_path, core):
    """3.12+: sleuth's sys.monitoring tool is apart from coverage's tracer
    (settrace, itself on a tool of its own, or coverage's own tool), so a
    session that stops and continues changes nothing coverage measures."""
    plain, plain_report = coverage_run(tmp_path, "0", core=core)
    ours, our_report = coverage_run(tmp_path, "sleuth.set_trace", "b 5\nn\nn\nc\n", core=core)
    assert "(Pdb)" in ours.stdout
    assert ours.stderr == plain.stderr
    assert our_report == plain_report
    assert "prog.py" in plain_report


QUIT_THEN_OWN_BDBQUIT = """\
    import bdb, sys, threading
    import sleuth

    def worker():
        x = 1
        x = 2

    def target():
        t = threading.Thread(target=worker)
        t.start()
        t.join()

    sleuth.Pdb().runcall(target)
    print("hook restored:", threading.excepthook is threading.__excepthook__, file=sys.stderr)

    def own():
        raise bdb.BdbQuit("the program's own")
    t = threading.Thread(target=own)
    t.start()
    t.join()
"""


def test_quit_in_a_worker_leaves_no_hook_behind(tmp_path):
    """After a quit typed in a worker thread, the session's end puts
    threading.excepthook back: a BdbQuit of the program's own, later, is
    reported as it would be without the debugger (review finding: the hook
    stayed and swallowed every BdbQuit for the rest of the process)."""
    prog = write(tmp_path, QUIT_THEN_OWN_BDBQUIT)
    r = run_python([str(prog)], input="b 6\nc\nq\n", cwd=tmp_path, timeout=60)
    assert "hook restored: True\n" in r.stderr, r.stderr
    assert "bdb.BdbQuit: the program's own\n" in r.stderr, r.stderr
    assert r.stderr.count("Traceback") == 1, r.stderr
