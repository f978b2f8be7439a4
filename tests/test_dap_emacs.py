"""A real editor client: Emacs's dap-mode (Debian's emacs-nox and
elpa-dap-mode, installed by `make editor-deps`), driven headless by
tests/emacs/dap-drive.el through a breakpoint, an evaluation, a step and the
end of the program, with `sleuth dap` as its adapter (the same run with
debugpy's adapter shows the driver itself works)."""
import os
import shutil
import subprocess
import sys

import pytest

from dapclient import have_debuggee_server

import dapscenario

HERE = os.path.dirname(os.path.abspath(__file__))
EMACS = shutil.which("emacs")


def have_dap_mode():
    if not EMACS:
        return False
    r = subprocess.run([EMACS, "--batch", "--eval",
                        "(progn (require 'package) (package-initialize) (require 'dap-mode))"],
                       capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    return r.returncode == 0


pytestmark = [
    pytest.mark.skipif(not EMACS, reason="emacs is not installed (make editor-deps installs "
                                         "emacs-nox and elpa-dap-mode)"),
]


def adapters():
    yield pytest.param([sys.executable, "-m", "sleuth", "dap"], id="sleuth")
    yield pytest.param([sys.executable, "-m", "debugpy.adapter"], id="debugpy")


def drive(adapter):
    env = dict(os.environ,
               DAP_DRIVE_ADAPTER="\t".join(adapter),
               DAP_DRIVE_PROGRAM=dapscenario.PROGRAM,
               DAP_DRIVE_LINE=str(dapscenario.marker_line("BREAK add")),
               HOME=os.environ.get("HOME", "/tmp"))
    return subprocess.run([EMACS, "--batch", "-l", os.path.join(HERE, "emacs", "dap-drive.el")],
                          env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("adapter", list(adapters()))
def test_dap_mode_session(adapter):
    if not have_dap_mode():
        pytest.skip("dap-mode is not installed (make editor-deps installs elpa-dap-mode)")
    if adapter[-1] == "debugpy.adapter":
        pytest.importorskip("debugpy")
    elif not have_debuggee_server():
        pytest.skip("this build has no debuggee server yet (sleuth.listen)")
    r = drive(adapter)
    brk = dapscenario.marker_line("BREAK add")
    step = dapscenario.marker_line("STEP add")
    assert r.stdout.splitlines()[:5] == [
        f"STOPPED add {brk}", "EVAL 20", f"STEPPED {step}", "TERMINATED",
        'OUTPUT "before'], (r.stdout, r.stderr[-3000:])
    assert r.stdout.endswith('result 5\n"\n'), r.stdout
    assert r.returncode == 0
