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
