"""Differential test: a program behaves the same with sleuth as without it.

Each program in programs/diff/ writes what it observes (values, exceptions
caught, the order of events) to the file named by argv[1] — appending one
block that ends with `=== end STATUS` — and exits with that STATUS. It runs
once plain, then under `python -m sleuth` with a seeded, random command
script on stdin, in one of these modes:

  hit        breakpoints on random lines, each with `commands`/[`silent`]/`c`
  unhit      breakpoints that are never hit (lines of functions not called)
  step       a breakpoint reached with `c` (or none), random s/n/r/unt, clear, `c`
  falsecond  conditional breakpoints whose condition is false, `ignore`d ones
  mix        all of the above in one script

Every complete run under sleuth (the debugger restarts a finished program,
so the trailing `c` lines may run it again) must append exactly the block
the plain run wrote and exit with the same status; nothing may appear on
stderr that the plain run did not write, and no traceback or post-mortem.

CI runs the seeds in CI_SEEDS; `make test-diff-long` runs many more
(SLEUTH_DIFF_SEEDS=N for seeds 0..N-1, or A-B, or a comma list).
A failure prints the program, the seed, the command script and the diff.
"""
import difflib
import fnmatch
import os
import random
import re
import subprocess
import sys
import types

import pytest

from conftest import run_python

HERE = os.path.dirname(os.path.abspath(__file__))
DIFFDIR = os.path.join(HERE, "programs", "diff")
PY = sys.version_info[:2]

PROGRAMS = sorted(f[:-3] for f in os.listdir(DIFFDIR) if f.endswith(".py"))
MODES = ["hit", "unhit", "step", "falsecond", "mix"]
CI_SEEDS = [0, 1]

# Scenarios left out of the CI seed set until the named bug is fixed on main:
# (fnmatch pattern over "program-mode-seedN", versions or None for all, reason).
# The long run (SLEUTH_DIFF_SEEDS) keeps them, as non-strict xfails.
# 3.11, a breakpoint (false condition) in down_finally, which recurses to the
# limit: the RecursionError lands on the same frame as in the plain run
# (test_recursion_error_lands_at_the_plain_depth), but that deepest frame's
# `finally` calls log.append(n) with no recursion room left. Plain, 3.11 runs
# it as the specialized PRECALL_NO_KW_LIST_APPEND, which does not check the
# recursion limit; every instruction of a traced frame runs deoptimized
# (ceval's TRACING_NEXTOPARG: _PyOpcode_Deopt), and the generic call path
# (method_vectorcall_O) checks it and raises. With log.extend((n,)), whose
# specialized form checks too, the plain run loses the same entry. Any 3.11
# trace function does this to the frames it traces (pdb's moves the error
# itself 5 frames up); only not tracing the frame would avoid it.
RECURSION_311 = "3.11 tracing runs a frame's calls deoptimized: at the recursion limit list.append checks it"
WAITING = [
    ("recursion-falsecond-seed1", [(3, 11)], RECURSION_311),
]

FALSE_CONDITIONS = [
    "False", "0", "None", "1 == 2", "''", "[] and 1", "__name__ == 'nope'",
    "len('ab') == 3", "not True", "isinstance(1, str)", "{} == {1: 2}",
]


def _parse_seeds(spec):
    if not spec:
        return None
    spec = spec.strip()
    if re.fullmatch(r"\d+", spec):
        return list(range(int(spec)))
    if re.fullmatch(r"\d+-\d+", spec):
        a, b = map(int, spec.split("-"))
        return list(range(a, b + 1))
    return [int(s) for s in spec.split(",") if s.strip()]


LONG_SEEDS = _parse_seeds(os.environ.get("SLEUTH_DIFF_SEEDS"))


def _waiting_reason(test_id):
    for pattern, versions, reason in WAITING:
        if fnmatch.fnmatchcase(test_id, pattern) and (versions is None or PY in versions):
            return reason
    return None


def _scenarios():
    seeds = LONG_SEEDS if LONG_SEEDS is not None else CI_SEEDS
    for prog in PROGRAMS:
        for mode in MODES:
            for seed in seeds:
                test_id = "%s-%s-seed%d" % (prog, mode, seed)
                reason = _waiting_reason(test_id)
                if reason and LONG_SEEDS is None:
                    continue        # out of the CI set until the fix lands
                marks = [pytest.mark.xfail(reason=reason, strict=False)] if reason else []
                yield pytest.param(prog, mode, seed, id=test_id, marks=marks)


# --- where breakpoints can go -----------------------------------------------

def _code_objects(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


_LINES = {}


def program_lines(prog):
    """(lines that may run, lines in functions never called) of a program,
    from its code objects as this interpreter compiles them."""
    if prog not in _LINES:
        path = os.path.join(DIFFDIR, prog + ".py")
        with open(path) as f:
            module = compile(f.read(), path, "exec")
        live, dead = set(), set()
        for code in _code_objects(module):
            lines = {ln for _, _, ln in code.co_lines() if ln is not None}
            if code.co_name == "never_called":
                for inner in _code_objects(code):
                    dead |= {ln for _, _, ln in inner.co_lines() if ln is not None}
            else:
                live |= lines
        live -= dead
        # The `def never_called` line itself runs (it defines the function).
        dead.discard(min(dead))
        # pdb refuses blank lines, comments and lines opening a docstring.
        with open(path) as f:
            text = [""] + f.read().splitlines()

        def breakable(ln):
            s = text[ln].strip() if 0 < ln < len(text) else ""
            return s and s[0] != "#" and s[:3] not in ('"""', "'''")

        _LINES[prog] = (sorted(filter(breakable, live)), sorted(filter(breakable, dead)))
    return _LINES[prog]


# --- command scripts ----------------------------------------------------------

class Script:
    """A command script being built; counts the breakpoints it sets (every
    line offered is breakable, so each `b` gets the next number)."""

    def __init__(self, rng, prog):
        self.rng, self.prog, self.cmds, self.nbp = rng, prog, [], 0

    def brk(self, where, cond=None):
        if isinstance(where, int):
            where = ("%s.py:%d" % (self.prog, where) if self.rng.random() < 0.3
                     else "%d" % where)
        self.cmds.append("b " + where + (", " + cond if cond else ""))
        self.nbp += 1
        return self.nbp

    def hit(self, live, k):
        """Breakpoints that are hit and continued by their own commands."""
        rng = self.rng
        for line in rng.sample(live, k):
            self.brk(line)
            self.cmds.append("commands")
            if rng.random() < 0.8:
                self.cmds.append("silent")
            self.cmds += rng.sample(["p 1 + 1", "a", "p len(OUT)", "rv"], rng.randint(0, 2))
            # A resuming command ends the list (pdb reads no `end` after it).
            self.cmds.append(rng.choice(["c", "cont", "continue"]))

    def unhit(self, dead, k):
        """Breakpoints in a function that is never called."""
        for line in self.rng.sample(dead, min(k, len(dead))):
            self.brk(line)
        if self.rng.random() < 0.5:
            self.brk("never_called")

    def false(self, live, k):
        """Breakpoints whose condition is false (or that are ignored)."""
        rng = self.rng
        for line in rng.sample(live, k):
            cond = rng.choice(FALSE_CONDITIONS)
            how = rng.random()
            if how < 0.6:
                self.brk(line, cond)
            elif how < 0.85:
                self.cmds.append("condition %d %s" % (self.brk(line), cond))
            else:
                self.cmds.append("ignore %d 1000000" % self.brk(line))

    def steps(self, live):
        """Reach a random line (or stay at the first one), step around, clear
        that breakpoint, go on."""
        rng = self.rng
        bp = None
        if rng.random() < 0.8:
            bp = self.brk(rng.choice(live))
            self.cmds.append("c")
        words = ["s", "step", "n", "next", "r", "return", "unt", "until"]
        weights = [4, 1, 4, 1, 2, 1, 2, 1]
        self.cmds += rng.choices(words, weights, k=rng.randint(1, 12))
        if bp is not None:
            self.cmds.append("cl %d" % bp)


def make_script(prog, mode, seed):
    rng = random.Random("%s:%s:%d" % (prog, mode, seed))
    live, dead = program_lines(prog)
    sc = Script(rng, prog)
    if mode == "hit":
        sc.hit(live, rng.randint(1, 6))
    elif mode == "unhit":
        sc.unhit(dead, rng.randint(1, 3))
    elif mode == "falsecond":
        sc.false(live, rng.randint(1, 6))
    elif mode == "step":
        sc.steps(live)
    else:
        sc.unhit(dead, rng.randint(0, 2))
        sc.false(live, rng.randint(0, 3))
        sc.hit(live, rng.randint(0, 3))
        sc.steps(live)
    # Continue to the end; the debugger restarts a finished program and the
    # spare `c` line runs it again (each complete run must match), then quit.
    return sc.cmds + ["c", "c", "q"]


# --- running ----------------------------------------------------------------

_PLAIN = {}
_END = re.compile(r"^=== end (\d+)\n", re.M)


def blocks(text):
    """Split a program's output file into its complete runs."""
    out, start = [], 0
    for m in _END.finditer(text):
        out.append(text[start:m.end()])
        start = m.end()
    return out, text[start:]


def _run(args, cwd, input=None, timeout=120):
    return run_python(args, input=input, cwd=cwd, env={"COLUMNS": "80", "PYTHONHASHSEED": "0"},
                      timeout=timeout)


def plain_run(prog, tmp_path):
    if prog not in _PLAIN:
        out = tmp_path / "plain.out"
        r = _run([os.path.join(DIFFDIR, prog + ".py"), str(out)], str(tmp_path))
        text = out.read_text() if out.exists() else ""
        got, rest = blocks(text)
        assert len(got) == 1 and not rest, "plain run of %s wrote %r\n%s" % (prog, text, r.stderr)
        assert int(_END.search(got[0]).group(1)) == r.returncode, r.stderr
        _PLAIN[prog] = (got[0], r.returncode, r.stderr)
    return _PLAIN[prog]


def _text(data):
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")


def explain(prog, mode, seed, script, why, r=None, expected=None, got=None):
    parts = ["", "=" * 70,
             "program %s.py (%s), mode %s, seed %d, Python %d.%d: %s"
             % (prog, DIFFDIR, mode, seed, PY[0], PY[1], why),
             "rerun: cd tests && python -m pytest 'test_differential.py::test_same_behaviour"
             "[%s-%s-seed%d]'" % (prog, mode, seed),
             "--- command script (stdin of python -m sleuth %s.py OUTFILE):" % prog]
    parts += ["    " + c for c in script]
    if expected is not None and got is not None:
        parts.append("--- diff of the output file (plain -> under sleuth):")
        parts += difflib.unified_diff(expected.splitlines(), got.splitlines(), "plain",
                                      "sleuth", lineterm="")
    if r is not None:
        parts.append("--- sleuth stdout (last 4000 chars):")
        parts.append(r.stdout[-4000:])
        parts.append("--- stderr (last 4000 chars):")
        parts.append(r.stderr[-4000:])
    return "\n".join(parts)


@pytest.mark.parametrize("prog,mode,seed", list(_scenarios()))
def test_same_behaviour(prog, mode, seed, tmp_path):
    if prog == "withcov":
        pytest.importorskip("coverage")
    expected, status, plain_err = plain_run(prog, tmp_path)
    script = make_script(prog, mode, seed)
    out = tmp_path / "sleuth.out"
    try:
        r = _run(["-m", "sleuth", os.path.join(DIFFDIR, prog + ".py"), str(out)], str(tmp_path),
                 input="\n".join(script) + "\n", timeout=60)
    except subprocess.TimeoutExpired as exc:
        r = subprocess.CompletedProcess(exc.cmd, -9, _text(exc.stdout), _text(exc.stderr))
        pytest.fail(explain(prog, mode, seed, script, "sleuth did not finish in 60 s", r),
                    pytrace=False)
    text = out.read_text() if out.exists() else ""
    got, rest = blocks(text)

    def fail(why, **kw):
        pytest.fail(explain(prog, mode, seed, script, why, r, **kw), pytrace=False)

    if not got:
        fail("no complete run under sleuth", expected=expected, got=text)
    for block in got:
        if block != expected:
            fail("the program observed something else", expected=expected, got=block)
    if rest:
        fail("a run stopped in the middle of writing its output", expected=expected, got=rest)
    statuses = [int(s) for s in re.findall(r"The program exited via sys\.exit\(\)\. "
                                           r"Exit status: (-?\d+)", r.stdout)]
    if len(statuses) != len(got) or any(s != status for s in statuses):
        fail("exit statuses %s, plain %d" % (statuses, status))
    for bad in ("Traceback (most recent call last)", "Uncaught exception", "Post mortem",
                "Fatal Python error"):
        if bad in r.stdout or bad in r.stderr:
            fail("%r in the output" % bad)
    if r.stderr.replace(plain_err, "") if plain_err else r.stderr:
        fail("stderr differs from the plain run's")
    if r.returncode != 0:
        fail("sleuth exited with %d" % r.returncode)


# --- regressions found by the differential runs ------------------------------

def _same_as_plain(tmp_path, source, commands, runs=1):
    prog = tmp_path / "prog.py"
    prog.write_text(source)
    plain = _run([str(prog)], str(tmp_path))
    assert plain.returncode == 0, plain.stderr
    for _ in range(runs):
        r = _run(["-m", "sleuth", str(prog)], str(tmp_path), input="\n".join(commands) + "\n",
                 timeout=30)
        assert plain.stdout in r.stdout, (plain.stdout, r.stdout, r.stderr)
        assert r.stderr == plain.stderr, r.stderr
    return r


SETTRACE_PUT_BACK = """\
import sys


def f():
    return 1


def main():
    old = sys.gettrace()
    print("gettrace:", old)
    sys.settrace(old)
    print("f:", f())


main()
"""


def test_settrace_put_back_in_a_frame_sleuth_traces(tmp_path):
    """3.11: `sys.settrace(sys.gettrace())` in a function holding a
    breakpoint installed sleuth's module as a trace function, and the next
    call raised TypeError: 'module' object is not callable into the
    program. The program sees what it sees without sleuth."""
    r = _same_as_plain(tmp_path, SETTRACE_PUT_BACK, ["b 12, False", "c", "q"])
    assert "gettrace: None\nf: 1\nThe program finished" in r.stdout, r.stdout


THREADS_WITH_COMMANDS = """\
import threading


def work(n):
    total = 0
    for i in range(n):
        total += i
    return total


threads = [threading.Thread(target=work, args=(30,)) for k in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("done")
"""


def test_breakpoint_commands_in_several_threads_at_once(tmp_path):
    """Two threads running a breakpoint's commands at once each restored
    the other's in-interaction flag; it could stay set, and the next stop
    (here the restarted program's first line) waited for it forever (about
    every other run hung, on each version)."""
    r = _same_as_plain(tmp_path, THREADS_WITH_COMMANDS,
                       ["b 7", "commands", "silent", "a", "c", "c", "c", "q"], runs=4)
    assert r.stdout.count("done\n") == 2, r.stdout


RECURSION_DEPTH = """\
deepest = 0


def f(n, log):
    global deepest
    deepest = n
    try:
        f(n + 1, log)
    finally:
        log += [n]


def g(n, log):
    global deepest
    deepest = n
    try:
        g(n + 1, log)
    finally:
        log += [n]


def reach(fn):
    log = []
    try:
        fn(0, log)
    except RecursionError:
        pass
    return deepest, deepest - max(log)


(df, gap_f), (dg, gap_g) = reach(f), reach(g)
print("traced minus untraced depth:", df - dg, "gaps:", gap_f, gap_g)
"""


def test_recursion_error_lands_at_the_plain_depth(tmp_path):
    """3.11: a function holding a breakpoint (false condition) recurses to
    the limit exactly as deep as the same function without one, and its
    deepest frame's `finally` runs (pdb's Python tracer takes 5 frames of
    room there). What is left out of the differential run
    (recursion-falsecond-seed1) is a C call in that deepest `finally`: see
    RECURSION_311."""
    r = _same_as_plain(tmp_path, RECURSION_DEPTH, ["b 6, 0", "c", "q"])
    assert "traced minus untraced depth: 0 gaps: 0 0\n" in r.stdout, r.stdout
