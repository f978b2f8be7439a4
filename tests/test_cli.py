"""The debugger's command line against pdb's, on the running interpreter.

`python -m pdb ARGS` and sleuth behind a `pdb` stand-in (tests/peers/standin:
argv[0] is pdb.py, so sleuth speaks as pdb) must print the same text with the
same exit status: usage, option errors, a target that is not there, a script
that does not compile, what the program sees (__main__, sys.argv, sys.path).
Run as `sleuth` / `python -m sleuth`, the text names sleuth instead.
"""
import os
import sys
import textwrap
import zipapp

import pytest

from conftest import run_python

PY = sys.version_info[:2]
STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "standin")


def pdb_and_sleuth(args, tmp_path, stdin="", env=None):
    """{'pdb': (stdout, stderr, rc), 'sleuth': ...} for `python -m pdb ARGS`,
    sleuth speaking as pdb through the stand-in."""
    out = {}
    for tool in ("pdb", "sleuth"):
        e = {"HOME": str(tmp_path)}
        if tool == "sleuth":
            e["PYTHONPATH"] = STANDIN
        e.update(env or {})
        r = run_python(["-m", "pdb", *args], input=stdin, cwd=str(tmp_path), env=e)
        out[tool] = (r.stdout, r.stderr, r.returncode)
    return out


def last_line(text):
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def test_standin_is_sleuth(tmp_path):
    r = run_python(["-c", "import pdb, sleuth; print(pdb.Pdb is sleuth.Pdb)"],
                   env={"PYTHONPATH": STANDIN})
    assert r.stdout.strip() == "True"


@pytest.mark.parametrize("args", [[], ["-h"], ["--help"], ["-m"]])
def test_usage_and_help_match_pdb(tmp_path, args):
    out = pdb_and_sleuth(args, tmp_path)
    assert out["sleuth"] == out["pdb"]


@pytest.mark.parametrize("args", [["-c"], ["--spam", "x.py"], ["--command"], ["-x", "-m", "pdb"]])
def test_bad_options_match_pdb(tmp_path, args):
    out = pdb_and_sleuth(args, tmp_path)
    if PY >= (3, 13):
        # argparse's usage and message on stderr, status 2
        assert out["sleuth"] == out["pdb"]
    else:
        # pdb lets getopt's error escape with a traceback of pdb's frames;
        # sleuth prints only its last line. Same stream, same status.
        p_out, p_err, p_rc = out["pdb"]
        s_out, s_err, s_rc = out["sleuth"]
        assert (s_out, s_rc) == (p_out, p_rc) == ("", 1)
        assert s_err == last_line(p_err) + "\n"
        assert s_err.startswith("getopt.GetoptError: ")


@pytest.mark.parametrize("target", [["nosuch.py"], ["-m", "nosuchmod"], ["-m", "os.nosuch"], ["adir"],
                                    ["-m", "apkg"], ["-m", "apkg.sub"]])
def test_missing_targets_match_pdb(tmp_path, target):
    (tmp_path / "adir").mkdir()
    (tmp_path / "apkg").mkdir()
    (tmp_path / "apkg" / "__init__.py").write_text("")
    (tmp_path / "apkg" / "sub").mkdir()
    (tmp_path / "apkg" / "sub" / "__init__.py").write_text("")
    out = pdb_and_sleuth(target, tmp_path)
    assert out["sleuth"] == out["pdb"]
    assert out["sleuth"][2] == 1 and out["sleuth"][0].count("\n") == 1


def test_sleuth_names_itself(py):
    r = py(["-m", "sleuth"])
    assert r.returncode == 2
    assert r.stdout.startswith("usage: sleuth ") and "Other tools (each has --help):" in r.stdout
    r = py(["-m", "sleuth", "nosuch.py"])
    assert (r.stdout, r.stderr, r.returncode) == ("Error: nosuch.py does not exist\n", "", 1)
    r = py(["-m", "sleuth", "-m", "nosuchmod"])
    assert (r.stdout, r.stderr, r.returncode) == ("ImportError: No module named nosuchmod\n", "", 1)
    r = py(["-m", "sleuth", "-c"])
    assert r.stdout == "" and r.returncode == (2 if PY >= (3, 13) else 1)
    assert ("sleuth: error: argument -c/--command: expected one argument" if PY >= (3, 13)
            else "getopt.GetoptError: option -c requires argument") in r.stderr


@pytest.mark.parametrize("args", [["nosuch.py"], ["-m", "nosuchmod"], ["--faults", "nosuch.py"]])
def test_sleuth_run_missing_target_one_line(py, tmp_path, args):
    r = py(["-m", "sleuth", "run", *args], cwd=str(tmp_path))
    name = args[-1]
    msg = ("ImportError: No module named %s\n" % name if "-m" in args
           else "Error: %s does not exist\n" % name)
    assert (r.stdout, r.stderr, r.returncode) == ("", msg, 1)


def test_sleuth_run_program_import_error_is_the_programs(py, tmp_path):
    """An ImportError the program raises while its package is looked up is
    the program's failure (a traceback through its code), not 'no module'."""
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "__init__.py").write_text("import nosuchdep\n")
    (tmp_path / "bad" / "__main__.py").write_text("print('main')\n")
    r = py(["-m", "sleuth", "run", "-m", "bad"], cwd=str(tmp_path))
    assert r.returncode == 1
    assert "ModuleNotFoundError: No module named 'nosuchdep'" in r.stderr
    assert 'bad/__init__.py", line 1' in r.stderr


def program_lines(text):
    return [l for l in text.splitlines() if "@@" in l]


def test_syntax_error_in_script_matches_pdb(tmp_path):
    (tmp_path / "syn.py").write_text("def f: pass\n")
    out = pdb_and_sleuth(["syn.py"], tmp_path, stdin="")
    p_out, p_err, p_rc = out["pdb"]
    s_out, s_err, s_rc = out["sleuth"]
    assert s_rc == p_rc == (0 if PY >= (3, 13) else 1)
    assert last_line(s_err) == last_line(p_err) == "SyntaxError: expected '('"
    # The source line and caret, as in pdb's traceback
    assert s_err.splitlines()[-4:] == p_err.splitlines()[-4:]
    if PY >= (3, 13):
        # 3.13 debugs it post-mortem, at the line that compiled the script
        assert s_out == p_out
        assert "Uncaught exception. Entering post mortem debugging" in s_out


def test_what_the_program_sees_matches_pdb(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "prog.py").write_text(textwrap.dedent("""\
        import sys, __main__
        print("@@ argv", sys.argv)
        print("@@ path0", sys.path[0])
        print("@@ names", [k for k in vars(__main__) if k.startswith("__")])
        print("@@ spec", vars(__main__).get("__spec__", "missing"))
        print("@@ file", __file__)
        """))
    for env in (None, {"PYTHONSAFEPATH": "1"}):
        out = pdb_and_sleuth(["-c", "c", "sub/prog.py", "a", "-c", "b"], tmp_path, stdin="q\n", env=env)
        got, want = program_lines(out["sleuth"][0]), program_lines(out["pdb"][0])
        assert len(got) == 5
        if env and PY >= (3, 13):
            # -P: sys.path[0] is left alone (the stand-in's PYTHONPATH entry
            # comes first for sleuth), never the script's directory
            assert not got[1].endswith("sub") and not want[1].endswith("sub")
            del got[1], want[1]
        assert got == want


def test_module_target_namespace_matches_pdb(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "__main__.py").write_text(textwrap.dedent("""\
        import sys, __main__
        print("@@ argv", sys.argv)
        print("@@ names", [k for k in vars(__main__) if k.startswith("__")])
        print("@@ name", __name__, __package__, __spec__.name)
        """))
    out = pdb_and_sleuth(["-c", "c", "-m", "pkg", "x", "y"], tmp_path, stdin="q\n")
    assert program_lines(out["sleuth"][0]) == program_lines(out["pdb"][0])
    assert len(program_lines(out["sleuth"][0])) == 3


@pytest.mark.skipif(PY < (3, 13), reason="pdb debugs a .pyz as a zipapp from 3.13")
def test_zipapp_matches_pdb(tmp_path):
    src = tmp_path / "source"
    src.mkdir()
    (src / "__main__.py").write_text("def f(x):\n    return x + 1\nf(21 + 21)\n")
    zipapp.create_archive(str(src), str(tmp_path / "app.pyz"))
    out = pdb_and_sleuth(["app.pyz"], tmp_path, stdin="b f\nc\np x\nq\n")
    assert out["sleuth"] == out["pdb"]
    assert "42" in out["sleuth"][0] and "return x + 1" in out["sleuth"][0]
