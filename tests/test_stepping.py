"""Stepping through returns, generators and coroutines, and the `debug`
command: what pdb does, and never a change in the program's behaviour."""
from conftest import run_python


def test_location_that_cannot_be_shown_does_not_reach_the_program(tmp_path):
    """A frame whose source loader fails makes linecache raise while the stop's
    location line is printed; that is one `***` line, and the program goes on
    (on 3.11/3.12 it used to get the ValueError)."""
    prog = tmp_path / "loader.py"
    prog.write_text(
        "class BadLoader:\n"
        "    def get_source(self, name):\n"
        "        raise ValueError('no source today')\n"
        "\n"
        "g = {'__name__': 'fake', '__loader__': BadLoader()}\n"
        "exec(compile('def f():\\n    return 7\\n', '/nonexistent/fake.py', 'exec'), g)\n"
        "print('result', g['f']())\n")
    commands = ["b 7", "c", "s", "n", "c", "q"]
    r = run_python(["-m", "sleuth", str(prog)], input="\n".join(commands) + "\n",
                   cwd=str(tmp_path), timeout=60)
    assert "*** ValueError: no source today" in r.stdout, r.stdout
    assert "result 7" in r.stdout, r.stdout
    assert "Traceback" not in r.stdout + r.stderr, r.stdout + r.stderr
    assert r.returncode == 0
