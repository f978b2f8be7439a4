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


def test_generator_close_and_throw_while_a_breakpoint_is_set(tmp_path):
    """3.12+: PY_THROW cannot be disabled; the engine's call callback used to
    return DISABLE for it, and close()/throw() raised ValueError in the program."""
    prog = tmp_path / "closing.py"
    prog.write_text(
        "def gen():\n"
        "    try:\n"
        "        yield 1\n"
        "        yield 2\n"
        "    except KeyError:\n"
        "        yield 3\n"
        "\n"
        "g = gen()\n"
        "next(g)\n"
        "print('thrown', g.throw(KeyError))\n"
        "g.close()\n"
        "print('closed', any(x > 0 for x in [1, 2, 3]))\n"
        "x = 2\n")
    commands = ["b 13", "c", "p x", "c", "q"]
    r = run_python(["-m", "sleuth", str(prog)], input="\n".join(commands) + "\n",
                   cwd=str(tmp_path), timeout=60)
    assert "thrown 3\nclosed True\n" in r.stdout, r.stdout
    assert "closing.py(13)<module>()" in r.stdout, r.stdout
    assert "ValueError" not in r.stdout + r.stderr, r.stdout + r.stderr
    assert r.returncode == 0


def test_return_from_except_star_shows_lineno_none(tmp_path):
    """3.12 has no line for a return out of an except* block: pdb's stack entry
    holds None there and the location reads '(None)' plus 'Warning: lineno is
    None' (test_pdb's test_pdb_issue_gh_101517); sleuth printed '(-1)'.
    Compared with pdb on every version."""
    prog = tmp_path / "exceptstar.py"
    prog.write_text(
        "import sys\n"
        "dbg = __import__(sys.argv[1])\n"
        "\n"
        "def test_function():\n"
        "    try:\n"
        "        raise KeyError\n"
        "    except* Exception as e:\n"
        "        dbg.Pdb(nosigint=True, readrc=False).set_trace()\n"
        "\n"
        "test_function()\n"
        "print('after')\n")
    outs = []
    for tool in ("pdb", "sleuth"):
        r = run_python([str(prog), tool], input="continue\n", cwd=str(tmp_path), timeout=60)
        outs.append((r.stdout, r.returncode))
    assert outs[1] == outs[0]
    assert "after" in outs[1][0]
