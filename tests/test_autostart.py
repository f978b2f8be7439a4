"""SLEUTH_FAULTS / SLEUTH_EVIDENCE turn the tools on at start-up of any
Python program, and `sleuth run --faults/--evidence` does the same."""
import glob
import os

import pytest

from conftest import SANITIZED, run_python

CRASH = "import ctypes\ndef f():\n    ctypes.string_at(0)\nf()\n"
RAISE = "def g():\n    secret_token = 'abc'\n    raise ValueError('boom')\ng()\n"


@pytest.mark.skipif(SANITIZED, reason="ASan owns SIGSEGV reporting in sanitized runs")
def test_env_faults_reports_crash(tmp_path):
    prog = tmp_path / "crash.py"
    prog.write_text(CRASH)
    r = run_python([str(prog)], env={"SLEUTH_FAULTS": "1"})
    assert r.returncode == -11
    assert "Fatal Python error: Segmentation fault" in r.stderr
    assert 'crash.py", line 3 in f' in r.stderr


@pytest.mark.skipif(SANITIZED, reason="ASan owns SIGSEGV reporting in sanitized runs")
def test_run_faults_option(tmp_path):
    prog = tmp_path / "crash.py"
    prog.write_text(CRASH)
    r = run_python(["-m", "sleuth", "run", "--faults", str(prog)])
    assert r.returncode == -11
    assert "Fatal Python error: Segmentation fault" in r.stderr


def test_env_unset_imports_nothing(tmp_path):
    r = run_python(["-c", "import sys; print('sleuth' in sys.modules)"],
                   env={"SLEUTH_FAULTS": "0", "SLEUTH_EVIDENCE": ""})
    assert r.stdout.strip() == "False"


@pytest.mark.parametrize("how", ["env", "run"])
def test_evidence_written_and_exit_unchanged(tmp_path, how):
    prog = tmp_path / "raise.py"
    prog.write_text(RAISE)
    ev = tmp_path / "ev"
    ev.mkdir()
    plain = run_python([str(prog)])
    if how == "env":
        r = run_python([str(prog)], env={"SLEUTH_EVIDENCE": str(ev)})
    else:
        r = run_python(["-m", "sleuth", "run", "--evidence", str(ev), str(prog)])
    assert r.returncode == plain.returncode == 1
    assert "ValueError: boom" in r.stderr
    files = glob.glob(os.path.join(str(ev), "*"))
    assert len(files) == 1
    opened = run_python(["-m", "sleuth", "open", files[0]], input="p secret_token\nw\nq\n")
    assert "raise.py(3)g()" in opened.stdout
    assert "[redacted]" in opened.stdout
    assert "abc" not in opened.stdout


def test_open_session_on_real_evidence(tmp_path):
    prog = tmp_path / "shop.py"
    prog.write_text("def price_of(order, factor=2):\n    api_token = 's3cr3t'\n"
                    "    return order['items'][0] * factor\n\n"
                    "def main():\n    order = {'items': [], 'qty': 2}\n    return price_of(order)\n\nmain()\n")
    ev = tmp_path / "ev"
    ev.mkdir()
    run_python([str(prog)], env={"SLEUTH_EVIDENCE": str(ev)})
    path = glob.glob(os.path.join(str(ev), "*"))[0]
    r = run_python(["-m", "sleuth", "open", path],
                   input="a\nwhatis order\nll\np api_token\nu\np order['qty']\nn\norder = 1\nq\n")
    out = r.stdout
    assert "(Pdb) order = {'items': [], 'qty': 2}\nfactor = 2\n" in out
    assert "(Pdb) <class 'dict'>\n" in out
    assert "  3  ->\t    return order['items'][0] * factor\n" in out
    assert "shop.py(7)main()" in out
    assert "(Pdb) 2\n" in out
    assert out.count("*** The program is not running") == 2
    # The value is redacted (source lines are kept as written).
    assert "(Pdb) '[redacted]'\n" in out
