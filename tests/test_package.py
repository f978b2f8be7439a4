import sleuth
from sleuth import _sleuth
from conftest import run_python


def test_version_matches_metadata():
    from importlib.metadata import version
    assert sleuth.__version__ == version("sleuth")


def test_no_arguments_prints_usage(py):
    r = py(["-m", "sleuth"])
    assert r.returncode == 2
    assert "usage: sleuth" in r.stdout


LAZY_BDB = """\
import sys
import sleuth
print("bdb after import:", "bdb" in sys.modules)
try:
    sleuth.set_trace()
    x = 1
except Exception as exc:
    print("raised:", type(exc).__module__, type(exc).__name__)
import bdb
print("same class:", sleuth.BdbQuit is bdb.BdbQuit)
from sleuth import BdbQuit
print("from-import:", BdbQuit is bdb.BdbQuit)
"""


def test_import_does_not_load_bdb_yet_quit_is_bdbs(tmp_path):
    """`import sleuth` cost ~85M instructions on 3.13, almost all of it bdb
    (fnmatch, re, inspect; callgrind, `python -c "import sleuth"` over `pass`):
    bdb is now loaded when a debugger is made. What `q` raises is still
    bdb.BdbQuit itself."""
    prog = tmp_path / "lazy.py"
    prog.write_text(LAZY_BDB)
    r = run_python([str(prog)], input="q\n", cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "bdb after import: False\n" in r.stdout, r.stdout
    assert "raised: bdb BdbQuit\n" in r.stdout, r.stdout
    assert "same class: True\nfrom-import: True\n" in r.stdout, r.stdout
