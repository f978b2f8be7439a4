"""Ctrl-C while the program runs interrupts it into the prompt, as in pdb."""
import os
import signal
import subprocess
import sys
import time

import pytest

from test_pdb_compat import progdir  # noqa: F401  (fixture)


@pytest.mark.parametrize("with_breakpoint", [False, True])
def test_ctrl_c_drops_into_prompt(progdir, with_breakpoint):
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    p = subprocess.Popen([sys.executable, "-m", "sleuth", "forever.py"], cwd=progdir, env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        setup = "b forever.py:1\n" if with_breakpoint else ""
        p.stdin.write(setup + "c\n")
        p.stdin.flush()
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        time.sleep(0.5)
        p.stdin.write("p i > 0\nq\n")
        p.stdin.flush()
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert "Program interrupted. (Use 'cont' to resume)." in out, out + err
    assert "forever.py(" in out.split("Program interrupted")[1]
    assert "(Pdb) True" in out
    assert "KeyboardInterrupt" not in err
