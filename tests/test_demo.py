"""`make demo` runs the debugger on examples/buggy.py with a scripted session;
keep that session working."""
import os

from conftest import run_python

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_scripted_demo_session():
    with open(os.path.join(ROOT, "examples", "demo-commands.txt")) as f:
        commands = f.read()
    r = run_python(["-m", "sleuth", os.path.join(ROOT, "examples", "buggy.py")], input=commands)
    out = r.stdout
    assert "buggy.py(14)apply_discount()" in out
    assert "percent = 10" in out
    assert "(Pdb) 110.0" in out                      # the bug, seen from the prompt
    assert "Uncaught exception. Entering post mortem debugging" in out
    assert "(Pdb) {'customer': 'cy', 'items': []}" in out
    assert r.returncode == 0


def test_demo_transcript_shows_each_command_after_its_prompt():
    # Without a terminal, `make demo` replays the commands through
    # examples/replay.py, which echoes each one after its prompt.
    r = run_python([os.path.join(ROOT, "examples", "replay.py"),
                    os.path.join(ROOT, "examples", "demo-commands.txt"),
                    os.path.join(ROOT, "examples", "buggy.py")], timeout=120)
    out = r.stdout
    assert "(Pdb) b apply_discount\nBreakpoint 1 at " in out
    assert "(Pdb) p total + total * percent / 100\n110.0\n" in out
    assert "(Pdb) p order[\"customer\"]\n'cy'\n" in out
    assert out.rstrip().endswith("(Pdb) q")
    assert r.returncode == 0
