"""sleuth inside pytest: `pytest --sleuth`, `--pdbcls=sleuth:Pdb`, pytest.set_trace()
and pdb.set_trace() patched by pytest, and doctest's Pdb subclass.

pytest drives the debugger through a subclass of the class it is given: its
do_quit raises pytest.exit(), its setup/get_stack/do_continue wrap ours, and it
catches bdb.BdbQuit. Each session here runs in a child pytest with piped stdin
and is compared with the same session under pytest's own --pdb."""
import re
import sys
import textwrap

import pytest

from conftest import run_python

PY = sys.version_info[:2]


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return str(p)


def pytest_run(tmp_path, args, stdin, env=None):
    r = run_python(["-m", "pytest", "-p", "no:cacheprovider", *args], input=stdin,
                   cwd=str(tmp_path), env=env)
    out = re.sub(r" in \d+\.\d+s", " in Ns", r.stdout + r.stderr)
    return out, r.returncode


TWO_FAILING = """\
    def test_1():
        value = 41
        assert value == 42

    def test_2():
        assert 0
    """


@pytest.mark.parametrize("flags", [["--sleuth"], ["--pdb", "--pdbcls=sleuth:Pdb"]])
def test_quit_ends_the_session_as_with_pdb(tmp_path, flags):
    # pytest's do_quit raises pytest.exit("Quitting debugger") after ours ran:
    # the exception must leave the prompt, as through cmd.Cmd.
    write(tmp_path, "test_q.py", TWO_FAILING)
    got = pytest_run(tmp_path, ["test_q.py", *flags], "p value\nq\n")
    ref = pytest_run(tmp_path, ["test_q.py", "--pdb"], "p value\nq\n")
    assert "*** _pytest.outcomes.Exit" not in got[0]
    assert "!!! _pytest.outcomes.Exit: Quitting debugger !!!" in got[0]
    assert got[0].count("(Pdb) ") == 2
    assert "test_q.py::test_2" not in got[0]
    assert got == ref


def test_eof_ends_the_session_as_with_pdb(tmp_path):
    write(tmp_path, "test_q.py", TWO_FAILING)
    got = pytest_run(tmp_path, ["test_q.py", "--sleuth"], "")
    ref = pytest_run(tmp_path, ["test_q.py", "--pdb"], "")
    assert got == ref


def test_override_exception_propagates_from_command():
    # cmd.Cmd lets what a do_* method raises leave cmdloop; sleuth only turns
    # its own commands' failures into `***` lines.
    import io
    import sleuth

    class Boom(Exception):
        pass

    class MyPdb(sleuth.Pdb):
        def do_boom(self, arg):
            raise Boom(arg)

        def default(self, line):
            if line == "explode":
                raise Boom("default")
            return super().default(line)

    def f():
        x = 1
        return x

    for cmd, msg in (("boom now", "now"), ("explode", "default")):
        out = io.StringIO()
        p = MyPdb(stdin=io.StringIO(cmd + "\nc\n"), stdout=out, readrc=False)
        with pytest.raises(Boom, match=msg):
            p.runcall(f)
        assert "***" not in out.getvalue()


def test_bdbquit_is_bdb_bdbquit(tmp_path):
    import bdb
    import sleuth

    assert sleuth.BdbQuit is bdb.BdbQuit
    prog = write(tmp_path, "quit.py", """\
        import bdb, sys
        dbg = __import__(sys.argv[1])
        def f():
            dbg.set_trace()
            x = 1
        try:
            f()
        except bdb.BdbQuit:
            print("caught bdb.BdbQuit")
        """)
    out = {tool: run_python([prog, tool], input="q\n").stdout for tool in ("pdb", "sleuth")}
    assert "caught bdb.BdbQuit" in out["sleuth"]
    assert out["sleuth"] == out["pdb"]
