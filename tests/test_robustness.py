"""Bad input never hurts the program being debugged: hostile objects, wrong
commands, random command lines, threads."""
import random
import re

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
