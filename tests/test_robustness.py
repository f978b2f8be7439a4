"""Bad input never hurts the program being debugged: hostile objects, wrong
commands, random command lines, threads."""
import os
import random
import re
import subprocess

import pytest

from conftest import run_python
from test_pdb_compat import progdir  # noqa: F401  (fixture)

COMMAND_WORDS = [
    "h", "help", "w", "where", "bt", "u", "up", "d", "down", "b", "break", "tbreak", "cl", "clear",
    "disable", "enable", "ignore", "condition", "s", "step", "n", "next", "unt", "until", "r",
    "return", "j", "jump", "l", "list", "ll", "longlist", "a", "args", "p", "pp", "whatis",
    "source", "display", "undisplay", "retval", "rv", "alias", "unalias", "exceptions", "env",
    "!", "?",
]
ARG_PIECES = ["", "1", "-1", "0", "99999", "x", "value", "bad", "rec", "huge", "big", "main",
              "hostile.py:22", "nosuch.py:1", ",", ", value ==", "(", ")", "'", '"', "[", "1/0",
              "%1", "%*", ";;", "$_frame", "$x", "\\", "\x00", "é", "𝔘", "big[", "lambda: 0",
              "__import__('os')", "*", "**", "...", ":", "::", "10, 5", "5, 10"]


def test_hostile_reprs_give_one_line_errors(progdir):
    commands = ["b 22", "c", "p bad", "pp bad", "p rec", "p huge", "display bad", "a", "whatis bad",
                "p big", "rv", "n", "rv", "c", "q"]
    r = run_python(["-m", "sleuth", "hostile.py"], input="\n".join(commands) + "\n", cwd=progdir,
                   timeout=120)
    out = r.stdout
    assert "*** ValueError: no repr for you" in out
    assert "*** RecursionError: maximum recursion depth exceeded" in out
    # 50 MB repr: shown bounded, with a note of what was cut.
    assert "more characters not shown]" in out
    assert len(out) < 3 * 1024 * 1024
    assert "display bad: *** repr(bad) failed: ValueError: no repr for you ***" in out
    assert "main returned 10" in out
    assert r.returncode == 0


def test_breakpoint_in_worker_thread(progdir):
    commands = ["b 7", "c", "p threading.current_thread().name", "p i", "cl 1", "c", "q"]
    r = run_python(["-m", "sleuth", "threads.py"], input="\n".join(commands) + "\n", cwd=progdir,
                   timeout=60)
    assert "threads.py(7)work()" in r.stdout
    assert "'worker-1'" in r.stdout
    assert "worker result 10" in r.stdout


@pytest.mark.parametrize("leave", ["exit()", "raise SystemExit(3)"])
def test_exit_inside_interact_returns_to_the_debugger(progdir, leave):
    """pdb 3.11/3.12 let a SystemExit out of `interact` end the program;
    sleuth keeps it in the console on every version (3.13's pdb does too)."""
    commands = ["b 17", "c", "interact", leave, "p v", "cl 1", "c", "q"]
    r = run_python(["-m", "sleuth", "basic.py"], input="\n".join(commands) + "\n", cwd=progdir,
                   timeout=60)
    assert "(Pdb) 1\n" in r.stdout, r.stdout
    assert "The program exited via sys.exit()" not in r.stdout
    assert "The program finished and will be restarted" in r.stdout
    assert r.returncode == 0


def test_breakpoint_in_a_loop_another_thread_is_already_running(progdir):
    """The breakpoint is set while the worker already runs the loop: its
    running frame must start reporting (3.11: its C frames are re-tuned)."""
    commands = ["b 14", "c", "p threading.current_thread().name", "cl 1", "!stop.set()", "c"]
    r = run_python(["spinner.py"], input="\n".join(commands) + "\n", cwd=progdir, timeout=60)
    assert "spinner.py(14)spin()" in r.stdout, r.stdout + r.stderr
    assert "'spinner'" in r.stdout
    assert "stopped" in r.stdout


def test_condition_that_deletes_its_own_breakpoint(progdir):
    """A condition runs Python code: one that deletes the breakpoint being
    evaluated (pdb 3.12 crashes on this) stops once, then the breakpoint is
    gone and the program finishes."""
    cond = "__import__('sleuth').Breakpoint.bpbynumber[1].deleteMe() or True"
    commands = ["b 17, " + cond, "c", "p v", "b", "c", "q"]
    r = run_python(["-m", "sleuth", "basic.py"], input="\n".join(commands) + "\n", cwd=progdir,
                   timeout=60)
    assert "(Pdb) 1\n(Pdb) (Pdb) " in r.stdout, r.stdout + r.stderr
    assert "The program finished and will be restarted" in r.stdout
    assert r.returncode == 0


SELF_EDIT = """\
import sys
def reset(flag=False):
    sys.modules["sleuth"].Breakpoint.bpbynumber[1].cond = "i == 99"
    return False

def work(i):
    x = i                        # line 7
    return x

for i in range(3):
    work(i)
print("done")
"""


def test_condition_that_changes_its_own_condition(tmp_path):
    """A condition evaluated in C that sets its own breakpoint's condition
    (bdb's Breakpoint.cond): the tree being walked was freed under the
    evaluator (found in review: a segfault). The old condition finishes
    (false), the new one never holds, the program runs to its end, as in
    pdb."""
    (tmp_path / "selfedit.py").write_text(SELF_EDIT)
    commands = ["b 7, reset(flag=True) or {i: 1}[i] == 2", "c"]
    r = run_python(["-m", "sleuth", "selfedit.py"], input="\n".join(commands) + "\n",
                   cwd=str(tmp_path), timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "done\n" in r.stdout and "work()" not in r.stdout, r.stdout


def random_line(rng):
    word = rng.choice(COMMAND_WORDS)
    args = " ".join(rng.choice(ARG_PIECES) for _ in range(rng.randint(0, 3)))
    if rng.random() < 0.1:
        return "".join(chr(rng.randint(1, 0x2FF)) for _ in range(rng.randint(1, 12)))
    return (word + " " + args).strip() if word not in ("!", "?") else word + args


@pytest.mark.parametrize("seed", range(6))
def test_fuzzed_commands_never_hurt_the_program(progdir, seed):
    rng = random.Random(seed)
    lines = ["b 22", "c"] + [random_line(rng) for _ in range(150)]
    # Whatever happened, leave: clear breakpoints, then continue until the end.
    lines += ["cl", "y", "c", "c", "c", "c", "q"]
    r = run_python(["-m", "sleuth", "hostile.py"], input="\n".join(lines) + "\n", cwd=progdir,
                   timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr or "sleuth" not in r.stderr, r.stderr[-3000:]
    # The session answered every command with a prompt (or ended cleanly).
    assert r.stdout.count("(Pdb) ") >= 10
    assert "Fatal Python error" not in r.stderr
    assert "main returned 10" in r.stdout


# --- the wider fuzz: debug, nested debuggers, commands blocks, aliases, restarts ---
#
# CI runs a few seeds of a few seconds each; `make fuzz` runs many more, longer
# (SLEUTH_FUZZ_SEEDS, SLEUTH_FUZZ_LINES). The program writes its results to a
# file, one block a run: every block must be exactly what a plain run writes.

FUZZ_SEEDS = int(os.environ.get("SLEUTH_FUZZ_SEEDS", "5"))
FUZZ_FIRST_SEED = int(os.environ.get("SLEUTH_FUZZ_FIRST_SEED", "100"))
FUZZ_LINES = int(os.environ.get("SLEUTH_FUZZ_LINES", "100"))
# Nested debuggers (`debug`) still crash the interpreter in some sessions
# (`debug 1` then `q`; `debug (` or `debug 1/0` followed by more commands;
# seeds 103/104 with 60 lines) until the fix of the `debug` command
# lands. CI leaves `debug` out of the mix, `make fuzz` keeps it in: turn it on
# here (default "1") once that fix is on main.
FUZZ_DEBUG = os.environ.get("SLEUTH_FUZZ_DEBUG", "0") == "1"

FUZZ_WORDS = [w for w in COMMAND_WORDS if w not in ("j", "jump")] + ["commands", "silent", "end"]
if FUZZ_DEBUG:
    FUZZ_WORDS.append("debug")    # random arguments: a nested debugger that may never be left
FUZZ_PIECES = ARG_PIECES + ["v", "acc", "acc.total", "fib(3)", "risky(3)", "list(gen(2))", "37", "fib",
                            "fuzzprog.py:37", "Acc.add", "gen"]
# Code a nested debugger may run: none of it changes what the program writes.
DEBUG_TARGETS = ["1", "nosuch()", "1/0", "", "acc.total", "(", "list(range(2))", "fib(3)", "risky(3)",
                 "list(gen(2))", "Acc().add(2)"]
LEAVE_DEBUG = ["c", "cont", "n", "s", "r", "unt", "", "w"]
ALIAS_NAMES = ["pv", "two", "rec", "c", "n", "alias", "x.y", "a1"]


def fuzz_block(rng, depth=0):
    """One command line, or a short structured run of them."""
    roll = rng.random()
    if roll < 0.08 and depth < 3 and FUZZ_DEBUG:
        # a nested debugger: some commands inside, then a way out
        target = rng.choice(DEBUG_TARGETS)
        lines = ["debug " + target]
        for _ in range(rng.randint(0, 4)):
            lines += fuzz_block(rng, depth + 1)
        # (a target that does not compile starts no debugger: q would end the session)
        # Quitting leaves the nested debugger; rarely, since when the nested
        # run already ended it quits the whole session.
        if target not in ("", "(") and rng.random() < 0.2:
            return lines + [rng.choice(["q", "EOF"])]
        return lines + [rng.choice(LEAVE_DEBUG)]
    if roll < 0.14:
        # a breakpoint's command list (possibly resuming), then maybe a run to it
        lines = ["b " + rng.choice(["37", "fib", "risky", "fuzzprog.py:30", "99"]),
                 "commands" + rng.choice(["", " 1", " 2", " x", " 99999999999999999999"])]
        for _ in range(rng.randint(0, 3)):
            lines.append(rng.choice(["silent", "p v", "p acc.total", "pp $_frame.f_lineno", "w",
                                     "alias zz p 1", "zz", "undisplay", "display v",
                                     "p %1", "!v"] + (["debug 1"] if FUZZ_DEBUG else [])))
        # (not EOF: when `commands` refused its argument, that quits the session)
        lines.append(rng.choice(["end", "end", "c", "n", "s"]))
        return lines + ([rng.choice(["c", "n", "s"])] if rng.random() < 0.5 else [])
    if roll < 0.22:
        # define an alias, then use it, with too few or too many arguments
        name = rng.choice(ALIAS_NAMES)
        body = rng.choice(["p %1", "p %1, %2", "p %*", "p \"%* %2\"", "pv %1", "rec", "p %2",
                           # (no ';; NAME' back to itself: pdb loops forever on that too)
                           "b %1;; p 2", "commands %1", "unalias %1"] + (["debug %1"] if FUZZ_DEBUG else []))
        uses = [name + " " + " ".join(rng.choice(FUZZ_PIECES) for _ in range(rng.randint(0, 3)))
                for _ in range(rng.randint(1, 3))]
        return ["alias %s %s" % (name, body)] + uses + (["unalias " + name] if rng.random() < 0.5 else [])
    if roll < 0.27:
        # a multi-line statement, finished or not
        return rng.choice([["for k in range(2):", "  x_ = k", ""], ["def g_():", "  return v", "", "g_()"],
                           ["if v:", "  pass", "else:", ""], ["(lambda: v)()"], ["[v for _ in (1, 2)]"],
                           ["while False:", "c"]])
    word = rng.choice(FUZZ_WORDS)
    args = " ".join(rng.choice(FUZZ_PIECES) for _ in range(rng.randint(0, 3)))
    if rng.random() < 0.05:
        return ["".join(chr(rng.randint(1, 0x2FF)) for _ in range(rng.randint(1, 12))).replace("\n", " ")]
    return [(word + " " + args).strip() if word not in ("!", "?") else word + args]


def plain_run_output(tmp):
    out = os.path.join(tmp, "plain.txt")
    r = run_python(["fuzzprog.py", out], cwd=tmp, timeout=60)
    assert r.returncode == 0, r.stderr
    with open(out) as f:
        return f.read()


@pytest.mark.parametrize("seed", range(FUZZ_FIRST_SEED, FUZZ_FIRST_SEED + FUZZ_SEEDS))
def test_fuzzed_sessions_never_change_the_program(progdir, seed):
    rng = random.Random(seed)
    expected = plain_run_output(progdir)
    lines = ["b 37", "c"]
    while len(lines) < FUZZ_LINES:
        lines += fuzz_block(rng)
        if rng.random() < 0.05:
            lines.append("c")            # run on: the program may finish and restart
    # Whatever happened, leave: clear breakpoints, run to the end twice (a
    # restarted session too), then end of input.
    lines += ["end"] + ["unalias " + a for a in ALIAS_NAMES] + ["cl", "y"] + ["c"] * 6
    lines += ["cl", "y", "c", "c", "c", "cl", "y", "c", "c"]
    out = os.path.join(progdir, "fuzz.txt")
    try:
        r = run_python(["-m", "sleuth", "fuzzprog.py", out], input="\n".join(lines) + "\n", cwd=progdir,
                       timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("seed %d: the session hung; commands:\n%s" % (seed, "\n".join(lines)))
    where = "seed %d; commands:\n%s\n--- stderr:\n%s" % (seed, "\n".join(lines), r.stderr[-3000:])
    assert "Fatal Python error" not in r.stderr, where
    assert r.returncode == 0, where
    assert not re.search(r"Traceback[^\n]*\n(?:.*\n)*?.*sleuth", r.stderr), where
    written = ""
    if os.path.exists(out):
        with open(out) as f:
            written = f.read()
    # Every run the debugger let finish wrote exactly what a plain run writes.
    assert written == expected * (len(written) // len(expected)), where + "\n--- written:\n" + written
    if not written:
        # No run finished: only a quit that reached the top level (from a
        # nested debugger already left) may explain that.
        assert FUZZ_DEBUG and re.search(r"^(q|EOF)$", "\n".join(lines), re.M), where + r.stdout[-3000:]
